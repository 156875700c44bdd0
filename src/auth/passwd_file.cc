#include "auth/passwd_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <utility>

#include "auth/password_scheme.h"
#include "base/log.h"
#include "base/strict_number.h"

namespace poplar::auth {
namespace {

// Used as the timing dummy when the file holds no usable hash at all. It is the SHA512-CRYPT
// (5000 rounds) hash of a random password that was thrown away; nothing can log in with it.
constexpr std::string_view kFallbackDummy =
    "{SHA512-CRYPT}$6$r39ad735oM7Qql4p$1wkPE9pBeWX//kWvx7vc.YdMY/DESwA9rrn.jM4Nfvq0HkfASxu0ocj9j"
    "RAHRs/MaPgsQvymvOa1jtqoJCKKB/";

// Read in pieces of this size; the file is read whole because it is parsed whole.
constexpr size_t kReadChunkBytes = 64 * 1024;

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// A uid or gid field: empty means "not set" (0). Poplar serves every mailbox as the one mail
// user of [user]/[group] (docs/design.md), so these ids are informational and 0 is accepted:
// the demo and tests running as root write their own uid here.
Status parse_id(std::string_view text, std::string_view what, uint32_t& out) {
  if (text.empty()) {
    out = 0;
    return Status::ok();
  }
  std::optional<uint32_t> value = parse_u32(text);
  if (!value) {
    return Status::corrupt(std::string(what) + " is not a number");
  }
  out = *value;
  return Status::ok();
}

Status apply_extra_fields(std::string_view extras, PasswdEntry& entry) {
  for (std::string_view token : split(extras, ' ')) {
    if (token.empty()) {
      continue;
    }
    Status status;
    if (token.starts_with("userdb_mail=")) {
      entry.user.mail = std::string(token.substr(12));
    } else if (token.starts_with("userdb_home=")) {
      entry.user.home = std::string(token.substr(12));
    } else if (token.starts_with("userdb_uid=")) {
      status = parse_id(token.substr(11), "userdb_uid", entry.user.uid);
    } else if (token.starts_with("userdb_gid=")) {
      status = parse_id(token.substr(11), "userdb_gid", entry.user.gid);
    } else {
      entry.extra_fields.emplace_back(token);
    }
    if (!status) {
      return status;
    }
  }
  return Status::ok();
}

struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};
  timespec ctime{};

  bool operator==(const FileIdentity& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec && ctime.tv_sec == o.ctime.tv_sec &&
           ctime.tv_nsec == o.ctime.tv_nsec;
  }
};

FileIdentity identity_of(const struct stat& st) {
  return FileIdentity{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}

// Heterogeneous lookup, so that lookup(string_view) does not build a std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

bool is_passwd_comment_or_blank(std::string_view line) {
  if (line.starts_with('#')) {
    return true;
  }
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

Result<PasswdEntry> parse_passwd_line(std::string_view line) {
  if (line.ends_with('\r')) {
    line.remove_suffix(1);
  }
  if (line.find('\0') != std::string_view::npos) {
    return Status::corrupt("NUL byte in line");
  }
  std::vector<std::string_view> fields = split(line, ':');
  if (fields[0].empty()) {
    return Status::corrupt("empty user name");
  }
  if (fields.size() < 2) {
    return Status::corrupt("no ':' after the user name");
  }
  PasswdEntry entry;
  entry.user.name = std::string(fields[0]);
  entry.password = Secret(fields[1]);
  auto field = [&fields](size_t i) { return i < fields.size() ? fields[i] : std::string_view(); };
  if (Status s = parse_id(field(2), "uid", entry.user.uid); !s) {
    return s;
  }
  if (Status s = parse_id(field(3), "gid", entry.user.gid); !s) {
    return s;
  }
  entry.gecos = std::string(field(4));
  entry.user.home = std::string(field(5));
  entry.shell = std::string(field(6));
  // The extra fields are the rest of the line, ':' included: values such as
  // userdb_mail=maildir:~/Maildir contain colons (Dovecot joins the remaining fields too).
  if (fields.size() > 7) {
    size_t offset = 0;
    for (size_t i = 0; i < 7; ++i) {
      offset += fields[i].size() + 1;
    }
    if (Status s = apply_extra_fields(line.substr(offset), entry); !s) {
      return s;
    }
  }
  return entry;
}

ParsedPasswdFile parse_passwd_text(std::string_view text, std::string_view name) {
  ParsedPasswdFile out;
  std::vector<std::string_view> lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) {
    lines.pop_back();  // the final line end
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (is_passwd_comment_or_blank(lines[i])) {
      continue;
    }
    Result<PasswdEntry> entry = parse_passwd_line(lines[i]);
    if (!entry) {
      out.errors.push_back(std::string(name) + ":" + std::to_string(i + 1) + ": " +
                           entry.status().message());
      continue;
    }
    entry->line_number = i + 1;
    out.entries.push_back(std::move(*entry));
  }
  return out;
}

struct PasswdFile::Snapshot {
  Status status;  // not OK: the file could not be read, and `users` is empty
  std::optional<FileIdentity> identity;
  std::unordered_map<std::string, PasswdEntry, StringHash, std::equal_to<>> users;
  Secret dummy{kFallbackDummy};
  bool all_cheap = false;
};

PasswdFile::PasswdFile(std::string path, const Clock& clock)
    : path_(std::move(path)), clock_(clock) {}

PasswdFile::~PasswdFile() = default;

Result<PasswdEntry> PasswdFile::lookup(std::string_view name) {
  std::shared_ptr<const Snapshot> snap = current(false);
  if (!snap->status) {
    return snap->status;
  }
  auto it = snap->users.find(name);
  if (it == snap->users.end()) {
    return Status::not_found("no such user in " + path_);
  }
  return it->second;
}

Secret PasswdFile::timing_dummy() { return current(false)->dummy; }

bool PasswdFile::all_cheap_to_verify() { return current(false)->all_cheap; }

Status PasswdFile::reload() { return current(true)->status; }

size_t PasswdFile::user_count() { return current(false)->users.size(); }

std::shared_ptr<const PasswdFile::Snapshot> PasswdFile::current(bool force) {
  std::shared_ptr<const Snapshot> snap;
  {
    std::lock_guard lock(mutex_);
    snap = snapshot_;
    if (!force && snap && clock_.now() - last_check_ < kCheckInterval) {
      return snap;
    }
  }
  std::unique_lock load_lock(load_mutex_, std::defer_lock);
  if (snap && !force) {
    if (!load_lock.try_lock()) {
      return snap;  // another thread is checking; the previous data serves meanwhile
    }
  } else {
    load_lock.lock();
  }
  {
    std::lock_guard lock(mutex_);
    if (!force && snapshot_ && clock_.now() - last_check_ < kCheckInterval) {
      return snapshot_;  // loaded by another thread while this one waited
    }
    snap = snapshot_;
  }
  std::shared_ptr<const Snapshot> fresh = load(snap);
  std::lock_guard lock(mutex_);
  snapshot_ = fresh;
  last_check_ = clock_.now();
  return fresh;
}

std::shared_ptr<const PasswdFile::Snapshot> PasswdFile::load(
    const std::shared_ptr<const Snapshot>& previous) const {
  auto failed = [&](int err, std::string_view what) {
    auto snap = std::make_shared<Snapshot>();
    snap->status = Status::temporary("passwd-file " + path_ + ": " + std::string(what) +
                                     (err != 0 ? std::string(": ") + std::strerror(err) : ""));
    // One line per change of state, not one per check.
    if (!previous || previous->status.message() != snap->status.message()) {
      log::error("passwd-file-unreadable").kv("path", path_).kv("error", snap->status.message());
    }
    return std::shared_ptr<const Snapshot>(std::move(snap));
  };

  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return failed(errno, "stat");
  }
  if (previous && previous->status && previous->identity == identity_of(st)) {
    return previous;
  }
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return failed(errno, "open");
  }
  // The identity is taken from the descriptor actually read, so a rename between stat() and
  // open() is noticed at the next check.
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return failed(err, "fstat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return failed(0, "not a regular file");
  }
  Secret text;  // the file holds {PLAIN} passwords: wiped after parsing
  std::string buffer;
  buffer.reserve(static_cast<size_t>(st.st_size) + 1);
  char chunk[kReadChunkBytes];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      secure_wipe(buffer.data(), buffer.size());
      secure_wipe(chunk, sizeof chunk);
      return failed(err, "read");
    }
    if (n == 0) {
      break;
    }
    buffer.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  secure_wipe(chunk, sizeof chunk);
  text = Secret(buffer);
  secure_wipe(buffer.data(), buffer.size());

  ParsedPasswdFile parsed = parse_passwd_text(text.view(), path_);
  for (const std::string& error : parsed.errors) {
    log::warning("passwd-file-line-skipped").kv("error", error);
  }

  auto snap = std::make_shared<Snapshot>();
  snap->identity = identity_of(st);
  // Pick the timing dummy: the first entry of the most common cost class.
  std::unordered_map<std::string, size_t> class_counts;
  std::vector<std::pair<std::string, const PasswdEntry*>> class_firsts;
  for (PasswdEntry& entry : parsed.entries) {
    auto [it, inserted] = snap->users.try_emplace(entry.user.name, entry);
    if (!inserted) {
      log::warning("passwd-file-duplicate-user")
          .kv("path", path_)
          .kv("line", static_cast<uint64_t>(entry.line_number))
          .kv("user", entry.user.name)
          .kv("used_line", static_cast<uint64_t>(it->second.line_number));
      continue;
    }
    std::string_view stored = it->second.password.view();
    if (stored.empty()) {
      continue;
    }
    if (!is_supported_scheme(split_scheme(stored).scheme)) {
      // Said at load, with the line, so the administrator need not wait for the user's failed
      // logins. Not the scheme's name: a password mistyped into the braces would be logged.
      log::warning("passwd-file-unknown-scheme")
          .kv("path", path_)
          .kv("line", static_cast<uint64_t>(entry.line_number))
          .kv("user", entry.user.name);
      continue;
    }
    std::string cost_class = hash_cost_class(stored);
    if (class_counts[cost_class]++ == 0) {
      class_firsts.emplace_back(cost_class, &it->second);
    }
  }
  size_t best = 0;
  for (const auto& [cost_class, entry] : class_firsts) {
    if (class_counts[cost_class] > best) {
      best = class_counts[cost_class];
      snap->dummy = entry->password;
    }
  }
  snap->all_cheap = is_cheap_to_verify(split_scheme(snap->dummy.view()).scheme);
  for (const auto& [name, entry] : snap->users) {
    snap->all_cheap =
        snap->all_cheap && is_cheap_to_verify(split_scheme(entry.password.view()).scheme);
  }
  log::info("passwd-file-loaded")
      .kv("path", path_)
      .kv("users", static_cast<uint64_t>(snap->users.size()))
      .kv("skipped_lines", static_cast<uint64_t>(parsed.errors.size()));
  return snap;
}

}  // namespace poplar::auth
