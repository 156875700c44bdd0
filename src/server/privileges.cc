// Dropping root: user/group lookup, setgroups/setgid/setuid, and the check that it stuck.
// See privileges.h.
//
// Thread-safety: see privileges.h; call once, at startup, single-threaded.
#include "server/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "base/log.h"
#include "base/result.h"

namespace poplar::server {
namespace {

// getpw*_r/getgr*_r need a caller buffer; sysconf's hint may be -1 or too small (large groups),
// so start there and grow on ERANGE up to a bound that no sane entry reaches.
constexpr size_t kInitialBuffer = 4096;
constexpr size_t kMaxBuffer = size_t{1} << 20;

size_t initial_buffer_size(int sysconf_name) {
  long hint = sysconf(sysconf_name);
  return hint > 0 ? static_cast<size_t>(hint) : kInitialBuffer;
}

struct UserEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks a user up by name when `name` is set, else by uid. kInvalidInput when there is no such
// user.
Result<UserEntry> lookup_user(const std::string* name, uid_t uid) {
  std::vector<char> buf(initial_buffer_size(_SC_GETPW_R_SIZE_MAX));
  while (true) {
    passwd entry{};
    passwd* found = nullptr;
    int err = name != nullptr ? getpwnam_r(name->c_str(), &entry, buf.data(), buf.size(), &found)
                              : getpwuid_r(uid, &entry, buf.data(), buf.size(), &found);
    if (err == ERANGE && buf.size() < kMaxBuffer) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (err != 0) {
      return Status::from_errno(err, name != nullptr ? "look up user \"" + *name + "\""
                                                     : "look up uid " + std::to_string(uid));
    }
    if (found == nullptr) {
      return Status::invalid_input(name != nullptr ? "unknown user \"" + *name + "\""
                                                   : "no user with uid " + std::to_string(uid));
    }
    return UserEntry{entry.pw_name, entry.pw_uid, entry.pw_gid};
  }
}

Result<gid_t> lookup_group(const std::string& name) {
  std::vector<char> buf(initial_buffer_size(_SC_GETGR_R_SIZE_MAX));
  while (true) {
    group entry{};
    group* found = nullptr;
    int err = getgrnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found);
    if (err == ERANGE && buf.size() < kMaxBuffer) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (err != 0) {
      return Status::from_errno(err, "look up group \"" + name + "\"");
    }
    if (found == nullptr) {
      return Status::invalid_input("unknown group \"" + name + "\"");
    }
    return entry.gr_gid;
  }
}

std::string current_user_name() {
  Result<UserEntry> me = lookup_user(nullptr, geteuid());
  return me.is_ok() ? me->name : "uid " + std::to_string(geteuid());
}

}  // namespace

Status check_identity(uid_t uid, gid_t gid) {
  uid_t ruid = 0;
  uid_t euid = 0;
  uid_t suid = 0;
  gid_t rgid = 0;
  gid_t egid = 0;
  gid_t sgid = 0;
  if (getresuid(&ruid, &euid, &suid) != 0) {
    return Status::from_errno(errno, "getresuid");
  }
  if (getresgid(&rgid, &egid, &sgid) != 0) {
    return Status::from_errno(errno, "getresgid");
  }
  if (ruid != uid || euid != uid || suid != uid) {
    return Status::permanent("uids are " + std::to_string(ruid) + "/" + std::to_string(euid) + "/" +
                             std::to_string(suid) + " (real/effective/saved), expected " +
                             std::to_string(uid));
  }
  if (rgid != gid || egid != gid || sgid != gid) {
    return Status::permanent("gids are " + std::to_string(rgid) + "/" + std::to_string(egid) + "/" +
                             std::to_string(sgid) + " (real/effective/saved), expected " +
                             std::to_string(gid));
  }
  int count = getgroups(0, nullptr);
  if (count < 0) {
    return Status::from_errno(errno, "getgroups");
  }
  std::vector<gid_t> groups(static_cast<size_t>(count));
  count = getgroups(count, groups.data());
  if (count < 0) {
    return Status::from_errno(errno, "getgroups");
  }
  for (int i = 0; i < count; ++i) {
    if (groups[static_cast<size_t>(i)] != gid) {
      return Status::permanent("still in supplementary group " +
                               std::to_string(groups[static_cast<size_t>(i)]));
    }
  }
  // The decisive test (OpenSSH's permanently_set_uid does the same): if root can be taken back, the
  // drop did not happen, whatever the getters say.
  if (uid != 0 && setuid(0) == 0) {
    return Status::permanent("setuid(0) succeeded after dropping to uid " + std::to_string(uid));
  }
  if (uid != 0 && gid != 0 && setgid(0) == 0) {
    return Status::permanent("setgid(0) succeeded after dropping to gid " + std::to_string(gid));
  }
  return Status::ok();
}

Status drop_privileges(const std::string& user, const std::string& group) {
  if (user.empty() && !group.empty()) {
    return Status::invalid_input("group \"" + group + "\" is set but user is not");
  }
  if (geteuid() != 0) {
    if (!user.empty()) {
      std::string me = current_user_name();
      if (me != user) {
        log::warning("privileges-unchanged")
            .kv("reason", "not started as root")
            .kv("running_as", me)
            .kv("configured_user", user);
      }
    }
    return Status::ok();
  }
  if (user.empty()) {
    log::warning("running-as-root").kv("reason", "no user configured");
    return Status::ok();
  }

  // Look everything up before changing anything, so a typo leaves the process untouched.
  Result<UserEntry> entry = lookup_user(&user, 0);
  if (!entry.is_ok()) {
    return entry.status();
  }
  gid_t gid = entry->gid;
  if (!group.empty()) {
    Result<gid_t> g = lookup_group(group);
    if (!g.is_ok()) {
      return g.status();
    }
    gid = *g;
  }
  uid_t uid = entry->uid;
  if (uid == 0) {
    log::warning("running-as-root").kv("reason", "configured user has uid 0").kv("user", user);
  }

  // Order matters: groups and gid first, while we still have the right to change them.
  if (setgroups(1, &gid) != 0) {
    return Status::from_errno(errno, "setgroups(" + std::to_string(gid) + ")");
  }
  if (setgid(gid) != 0) {
    return Status::from_errno(errno, "setgid(" + std::to_string(gid) + ")");
  }
  if (setuid(uid) != 0) {
    return Status::from_errno(errno, "setuid(" + std::to_string(uid) + ")");
  }
  Status verified = check_identity(uid, gid);
  if (!verified.is_ok()) {
    // STYLE §14.4: can't-happen-after-startup. Continuing would serve mail as root while the
    // admin believes otherwise.
    log::error("privilege-drop-failed").kv("user", user).kv("detail", verified.message());
    std::abort();
  }
  log::info("privileges-dropped")
      .kv("user", user)
      .kv("uid", static_cast<uint64_t>(uid))
      .kv("gid", static_cast<uint64_t>(gid));
  return Status::ok();
}

}  // namespace poplar::server
