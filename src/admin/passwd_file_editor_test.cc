#include "admin/passwd_file_editor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "auth/passwd_file.h"
#include "auth/password_scheme.h"
#include "base/log.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace poplar::admin {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

auth::UserRecord record(std::string name) {
  auth::UserRecord r;
  r.name = std::move(name);
  return r;
}

class EditorTest : public ::testing::Test {
 protected:
  std::string path() const { return (dir_.path() / "users").string(); }
  testing::TempDir dir_;
};

TEST(UserNameTest, AcceptsOrdinaryNamesAndRefusesWhatThePasswdFileCannotHold) {
  for (std::string_view ok : {"alice", "alice@example.org", "a.b-c_d+e", "ü-user", "x"}) {
    EXPECT_TRUE(validate_user_name(ok).is_ok()) << ok;
  }
  const std::string too_long(256, 'a');
  for (std::string_view bad :
       {std::string_view(""), std::string_view("a:b"), std::string_view("a b"),
        std::string_view("a\tb"), std::string_view("a\nb"), std::string_view("a\x7f"),
        std::string_view("#alice"), std::string_view(too_long)}) {
    EXPECT_EQ(validate_user_name(bad).code(), ErrorCode::kInvalidInput) << bad;
  }
  EXPECT_TRUE(validate_user_name(std::string(255, 'a')).is_ok());
}

TEST(FormatLineTest, WritesDovecotLayoutWithoutTrailingEmptyFields) {
  auth::UserRecord r = record("alice");
  EXPECT_EQ(*format_passwd_line(r, "{PLAIN}x"), "alice:{PLAIN}x");
  r.uid = 1000;
  r.gid = 1001;
  EXPECT_EQ(*format_passwd_line(r, "{PLAIN}x"), "alice:{PLAIN}x:1000:1001");
  r.home = "/home/alice";
  EXPECT_EQ(*format_passwd_line(r, "{PLAIN}x"), "alice:{PLAIN}x:1000:1001::/home/alice");
  r.mail = "maildir:~/Maildir";
  Result<std::string> full = format_passwd_line(r, "{PLAIN}x");
  EXPECT_EQ(*full, "alice:{PLAIN}x:1000:1001::/home/alice::userdb_mail=maildir:~/Maildir");
  // What the server reads back is what was written.
  Result<auth::PasswdEntry> parsed = auth::parse_passwd_line(*full);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(parsed->user.uid, 1000u);
  EXPECT_EQ(parsed->user.gid, 1001u);
  EXPECT_EQ(parsed->user.home, "/home/alice");
  EXPECT_EQ(parsed->user.mail, "maildir:~/Maildir");
  EXPECT_EQ(parsed->password.view(), "{PLAIN}x");
}

TEST(FormatLineTest, RefusesFieldsThatWouldBreakTheLine) {
  auth::UserRecord r = record("alice");
  EXPECT_FALSE(format_passwd_line(r, "{PLAIN}a:b").is_ok());
  EXPECT_FALSE(format_passwd_line(r, "{PLAIN}a\nb").is_ok());
  EXPECT_FALSE(format_passwd_line(r, "").is_ok());
  r.home = "/home/a:b";
  EXPECT_FALSE(format_passwd_line(r, "{PLAIN}x").is_ok());
  r.home = "/home/a";
  r.mail = "maildir:/a b";
  EXPECT_FALSE(format_passwd_line(r, "{PLAIN}x").is_ok());
  EXPECT_FALSE(format_passwd_line(record("a:b"), "{PLAIN}x").is_ok());
}

TEST_F(EditorTest, AddCreatesTheFileWithMode0600) {
  ::umask(022);
  ASSERT_TRUE(add_user(path(), record("alice"), "{PLAIN}a").is_ok());
  EXPECT_EQ(read_text(path()), "alice:{PLAIN}a\n");
  EXPECT_EQ(mode_of(path()), 0600u);
  EXPECT_FALSE(std::filesystem::exists(path() + ".tmp"));
  EXPECT_TRUE(std::filesystem::exists(path() + ".lock"));
}

TEST_F(EditorTest, AddKeepsEveryOtherLineByteForByte) {
  const std::string before =
      "# Poplar users\r\n"
      "\n"
      "bob:{PLAIN}b:1002:1002::/home/bob::nodelay allow_nets=10.0.0.0/8\r\n"
      "broken:line:not-a-uid\n"
      "carol:{PLAIN}c";  // no final line end
  write_text(path(), before);
  ASSERT_TRUE(add_user(path(), record("alice"), "{PLAIN}a").is_ok());
  EXPECT_EQ(read_text(path()), before + "\nalice:{PLAIN}a\n");
}

TEST_F(EditorTest, AddRefusesAnExistingUserAndLeavesTheFileAlone) {
  write_text(path(), "alice:{PLAIN}a\n");
  Status s = add_user(path(), record("alice"), "{PLAIN}other");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(s.message().find("already exists"), std::string::npos);
  EXPECT_EQ(read_text(path()), "alice:{PLAIN}a\n");
  // A broken line for the name counts too.
  write_text(path(), "bob:{PLAIN}b:notanumber\n");
  EXPECT_EQ(add_user(path(), record("bob"), "{PLAIN}b").code(), ErrorCode::kInvalidInput);
}

TEST_F(EditorTest, AddInMissingDirectoryIsUnavailable) {
  Status s = add_user((dir_.path() / "no" / "users").string(), record("alice"), "{PLAIN}a");
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
}

TEST_F(EditorTest, EditsKeepTheFileModeAndOwner) {
  write_text(path(), "alice:{PLAIN}a\n");
  ASSERT_EQ(::chmod(path().c_str(), 0640), 0);
  bool as_root = ::geteuid() == 0;
  if (as_root) {
    ASSERT_EQ(::chown(path().c_str(), 4321, 4322), 0);
  }
  ASSERT_TRUE(add_user(path(), record("bob"), "{PLAIN}b").is_ok());
  ASSERT_TRUE(set_password(path(), "alice", "{PLAIN}z").is_ok());
  EXPECT_EQ(mode_of(path()), 0640u);
  if (as_root) {
    struct stat st {};
    ASSERT_EQ(::stat(path().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 4321u);
    EXPECT_EQ(st.st_gid, 4322u);
  }
}

TEST_F(EditorTest, SetPasswordReplacesOnlyThePasswordField) {
  write_text(path(),
             "# users\n"
             "alice:{PLAIN}old:1000:1000::/home/alice::userdb_mail=maildir:~/M\r\n"
             "bob:{PLAIN}b\n"
             "carol:{PLAIN}c\r\n"
             "dave\n");
  ASSERT_TRUE(set_password(path(), "alice", "{SHA256}abc=").is_ok());
  ASSERT_TRUE(set_password(path(), "carol", "{PLAIN}new").is_ok());
  ASSERT_TRUE(set_password(path(), "dave", "{PLAIN}d").is_ok());
  EXPECT_EQ(read_text(path()),
            "# users\n"
            "alice:{SHA256}abc=:1000:1000::/home/alice::userdb_mail=maildir:~/M\r\n"
            "bob:{PLAIN}b\n"
            "carol:{PLAIN}new\r\n"
            "dave:{PLAIN}d\n");
}

TEST_F(EditorTest, SetPasswordChangesTheFirstOfDuplicateLines) {
  write_text(path(), "alice:{PLAIN}one\nalice:{PLAIN}two\n");
  ASSERT_TRUE(set_password(path(), "alice", "{PLAIN}new").is_ok());
  EXPECT_EQ(read_text(path()), "alice:{PLAIN}new\nalice:{PLAIN}two\n");
}

TEST_F(EditorTest, SetPasswordOfUnknownUserOrMissingFileFails) {
  EXPECT_EQ(set_password(path(), "alice", "{PLAIN}x").code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(path()));
  write_text(path(), "bob:{PLAIN}b\n");
  EXPECT_EQ(set_password(path(), "alice", "{PLAIN}x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(set_password(path(), "bob", "{PLAIN}x:y").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(read_text(path()), "bob:{PLAIN}b\n");
}

TEST_F(EditorTest, DeleteRemovesEveryLineOfTheUser) {
  write_text(path(), "# c\nalice:{PLAIN}a\nbob:{PLAIN}b\nalice:{PLAIN}again\n");
  ASSERT_TRUE(delete_user(path(), "alice").is_ok());
  EXPECT_EQ(read_text(path()), "# c\nbob:{PLAIN}b\n");
  EXPECT_EQ(delete_user(path(), "alice").code(), ErrorCode::kNotFound);
  EXPECT_EQ(delete_user((dir_.path() / "missing").string(), "bob").code(), ErrorCode::kUnavailable);
}

TEST_F(EditorTest, LockHeldByAnotherEditorGivesInUse) {
  write_text(path(), "alice:{PLAIN}a\n");
  int fd = ::open((path() + ".lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  EditOptions no_wait{.lock_timeout = std::chrono::milliseconds(0)};
  EXPECT_EQ(add_user(path(), record("bob"), "{PLAIN}b", no_wait).code(), ErrorCode::kInUse);
  EXPECT_EQ(delete_user(path(), "alice", no_wait).code(), ErrorCode::kInUse);
  EXPECT_EQ(read_text(path()), "alice:{PLAIN}a\n");
  ::close(fd);
  EXPECT_TRUE(add_user(path(), record("bob"), "{PLAIN}b", no_wait).is_ok());
}

TEST_F(EditorTest, LeftoverTempFileFromACrashIsReplaced) {
  write_text(path(), "alice:{PLAIN}a\n");
  write_text(path() + ".tmp", "garbage from a crashed editor");
  ASSERT_EQ(::chmod((path() + ".tmp").c_str(), 0666), 0);
  ASSERT_TRUE(add_user(path(), record("bob"), "{PLAIN}b").is_ok());
  EXPECT_EQ(read_text(path()), "alice:{PLAIN}a\nbob:{PLAIN}b\n");
  EXPECT_FALSE(std::filesystem::exists(path() + ".tmp"));
}

TEST_F(EditorTest, EachEditReplacesTheInodeSoTheServerNoticesIt) {
  log::set_sink_for_test([](log::Level, std::string_view) {});
  write_text(path(), "alice:{PLAIN}a\n");
  testing::FakeClock clock;
  auth::PasswdFile file(path(), clock);
  ASSERT_TRUE(file.lookup("alice").is_ok());
  struct stat before {};
  ASSERT_EQ(::stat(path().c_str(), &before), 0);
  ASSERT_TRUE(set_password(path(), "alice", "{PLAIN}b").is_ok());
  struct stat after {};
  ASSERT_EQ(::stat(path().c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  clock.advance(auth::PasswdFile::kCheckInterval);
  Result<auth::PasswdEntry> alice = file.lookup("alice");
  ASSERT_TRUE(alice.is_ok());
  EXPECT_EQ(alice->password.view(), "{PLAIN}b");
  log::reset_sink();
}

TEST_F(EditorTest, ListUsersGivesNamesOnceAndWarnsAboutBrokenLines) {
  write_text(path(), "# c\nalice:{PLAIN}a\nbroken:x:y\nbob:{PLAIN}b\nalice:{PLAIN}dup\n");
  Result<UserList> list = list_users(path());
  ASSERT_TRUE(list.is_ok());
  EXPECT_EQ(list->names, (std::vector<std::string>{"alice", "bob"}));
  ASSERT_EQ(list->warnings.size(), 1u);
  EXPECT_EQ(list->warnings[0], path() + ":3: uid is not a number");
  EXPECT_EQ(list_users((dir_.path() / "missing").string()).status().code(),
            ErrorCode::kUnavailable);
}

TEST_F(EditorTest, UserExistsLooksAtNamesOnly) {
  write_text(path(), "# alice:commented\nbob:{PLAIN}b\n");
  EXPECT_FALSE(*user_exists(path(), "alice"));
  EXPECT_TRUE(*user_exists(path(), "bob"));
  EXPECT_FALSE(*user_exists(path(), "bo"));
  EXPECT_EQ(user_exists((dir_.path() / "missing").string(), "bob").status().code(),
            ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace poplar::admin
