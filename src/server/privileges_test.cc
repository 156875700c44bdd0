// Tests for privileges.h. Changing identity cannot be undone, so every test that actually drops
// root does it in a forked child and reports through the exit code; the parent (the test
// binary) keeps its identity. Tests that need root skip themselves when not run as root.
#include "server/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "base/log.h"

namespace poplar::server {
namespace {

// Runs `body` in a child process and returns its exit code (or 128 + signal).
int run_in_child(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return -1;
  }
  if (pid == 0) {
    _exit(body());
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    ADD_FAILURE() << "waitpid failed";
    return -1;
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

struct Ids {
  uid_t uid;
  gid_t gid;
};

// The ids of an account that Debian always has; looked up in the parent, before the fork.
Ids ids_of(const char* user) {
  passwd* pw = getpwnam(user);
  EXPECT_NE(pw, nullptr) << user;
  return pw == nullptr ? Ids{0, 0} : Ids{pw->pw_uid, pw->pw_gid};
}

gid_t gid_of_group(const char* name) {
  group* gr = getgrnam(name);
  EXPECT_NE(gr, nullptr) << name;
  return gr == nullptr ? 0 : gr->gr_gid;
}

// Captures warning lines for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() {
    log::set_sink_for_test([this](log::Level level, std::string_view line) {
      if (level >= log::Level::kWarning) {
        lines_.emplace_back(line);
      }
    });
  }
  ~LogCapture() { log::reset_sink(); }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::vector<std::string> lines_;
};

bool is_root() { return geteuid() == 0; }

TEST(PrivilegesTest, GroupWithoutUserIsInvalidInput) {
  Status s = drop_privileges("", "nogroup");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
}

TEST(PrivilegesTest, CheckIdentityReportsMismatch) {
  // Differs from the current uid, so the check stops at the getters and changes nothing.
  Status s = check_identity(getuid() + 1, getgid());
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("uids are"), std::string::npos) << s.message();
  s = check_identity(getuid(), getgid() + 1);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("gids are"), std::string::npos) << s.message();
  EXPECT_EQ(geteuid(), getuid());
}

TEST(PrivilegesTest, NotRootWithOtherUserWarnsAndContinues) {
  if (is_root()) {
    GTEST_SKIP() << "runs as root; covered by DroppedProcessCannotDropAgainButContinues";
  }
  LogCapture capture;
  EXPECT_TRUE(drop_privileges("root", "").is_ok());
  ASSERT_EQ(capture.lines().size(), 1u);
  EXPECT_NE(capture.lines()[0].find("privileges-unchanged"), std::string::npos);
}

TEST(PrivilegesTest, RootWithEmptyUserKeepsRootAndWarns) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root";
  }
  LogCapture capture;
  EXPECT_TRUE(drop_privileges("", "").is_ok());
  EXPECT_EQ(geteuid(), 0u);
  ASSERT_EQ(capture.lines().size(), 1u);
  EXPECT_NE(capture.lines()[0].find("running-as-root"), std::string::npos);
}

TEST(PrivilegesTest, UnknownUserIsInvalidInputAndChangesNothing) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root (without root, the user is never looked up)";
  }
  Status s = drop_privileges("poplar-no-such-user", "");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(s.message().find("unknown user \"poplar-no-such-user\""), std::string::npos);
  EXPECT_EQ(geteuid(), 0u);
  EXPECT_EQ(getuid(), 0u);
}

TEST(PrivilegesTest, UnknownGroupIsInvalidInputAndChangesNothing) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root";
  }
  Status s = drop_privileges("nobody", "poplar-no-such-group");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(s.message().find("unknown group \"poplar-no-such-group\""), std::string::npos);
  EXPECT_EQ(geteuid(), 0u);
  EXPECT_EQ(getegid(), 0u);
}

// Exit codes of the child in the drop tests, so a failure says which check failed.
enum ChildResult {
  kChildOk = 0,
  kDropFailed = 10,
  kWrongUid = 11,
  kWrongGid = 12,
  kRegainedRoot = 13,
  kWrongGroups = 14,
  kCheckFailed = 15,
  kSecondDropFailed = 16,
  kNoWarning = 17,
  kSpuriousWarning = 18,
};

int check_child_identity(Ids want) {
  if (getuid() != want.uid || geteuid() != want.uid) {
    return kWrongUid;
  }
  if (getgid() != want.gid || getegid() != want.gid) {
    return kWrongGid;
  }
  gid_t groups[8];
  int n = getgroups(8, groups);
  if (n != 1 || groups[0] != want.gid) {
    return kWrongGroups;
  }
  if (setuid(0) == 0 || seteuid(0) == 0) {
    return kRegainedRoot;
  }
  if (!check_identity(want.uid, want.gid).is_ok()) {
    return kCheckFailed;
  }
  return kChildOk;
}

TEST(PrivilegesTest, RootDropsToNobodyWithPrimaryGroup) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root";
  }
  Ids nobody = ids_of("nobody");
  int code = run_in_child([&] {
    if (!drop_privileges("nobody", "").is_ok()) {
      return static_cast<int>(kDropFailed);
    }
    return check_child_identity(nobody);
  });
  EXPECT_EQ(code, kChildOk);
}

TEST(PrivilegesTest, RootDropsToNobodyWithConfiguredGroup) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root";
  }
  Ids want{ids_of("nobody").uid, gid_of_group("daemon")};
  int code = run_in_child([&] {
    if (!drop_privileges("nobody", "daemon").is_ok()) {
      return static_cast<int>(kDropFailed);
    }
    return check_child_identity(want);
  });
  EXPECT_EQ(code, kChildOk);
}

// After the drop the process is no longer root: asking for another user only warns, and asking
// for the current user is silent.
TEST(PrivilegesTest, DroppedProcessCannotDropAgainButContinues) {
  if (!is_root()) {
    GTEST_SKIP() << "needs root";
  }
  Ids nobody = ids_of("nobody");
  int code = run_in_child([&] {
    if (!drop_privileges("nobody", "").is_ok()) {
      return static_cast<int>(kDropFailed);
    }
    LogCapture capture;
    if (!drop_privileges("nobody", "").is_ok()) {
      return static_cast<int>(kSecondDropFailed);
    }
    if (!capture.lines().empty()) {
      return static_cast<int>(kSpuriousWarning);
    }
    if (!drop_privileges("root", "").is_ok()) {
      return static_cast<int>(kSecondDropFailed);
    }
    if (capture.lines().size() != 1 ||
        capture.lines()[0].find("privileges-unchanged") == std::string::npos) {
      return static_cast<int>(kNoWarning);
    }
    return check_child_identity(nobody);
  });
  EXPECT_EQ(code, kChildOk);
}

}  // namespace
}  // namespace poplar::server
