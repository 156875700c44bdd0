// Tests of `poplar user ...` and `poplar hash`, through the run_* functions and through CLI11.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "admin/exit_codes.h"
#include "admin/hash_command.h"
#include "admin/user_command.h"
#include "auth/passwd_file.h"
#include "auth/password_scheme.h"
#include "testing/fake_random.h"
#include "testing/temp_dir.h"

namespace poplar::admin {
namespace {

// Hands out scripted answers and counts how often it was asked.
class ScriptedPasswords final : public PasswordSource {
 public:
  void push(Result<Secret> answer) { answers_.push_back(std::move(answer)); }
  Result<Secret> read_new_password() override {
    ++asked_;
    if (answers_.empty()) {
      return Status::error(ErrorCode::kUnavailable, "no password given on standard input");
    }
    Result<Secret> next = std::move(answers_.front());
    answers_.pop_front();
    return next;
  }
  int asked() const { return asked_; }

 private:
  std::deque<Result<Secret>> answers_;
  int asked_ = 0;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

auth::HashOptions cheap() {
  auth::HashOptions o;
  o.argon2_memory_kib = 256;
  o.argon2_iterations = 1;
  o.bcrypt_cost = 4;
  return o;
}

class CommandTest : public ::testing::Test {
 protected:
  CommandTest() : io_{out_, err_, passwords_, random_, cheap()} {}

  std::string path() const { return (dir_.path() / "users").string(); }
  std::string stored_password(const std::string& user) {
    auth::ParsedPasswdFile parsed = auth::parse_passwd_text(read_text(path()), path());
    for (const auth::PasswdEntry& e : parsed.entries) {
      if (e.user.name == user) {
        return std::string(e.password.view());
      }
    }
    return "";
  }
  UserAddOptions add_options(std::string name) {
    UserAddOptions o;
    o.file = path();
    o.name = std::move(name);
    return o;
  }

  testing::TempDir dir_;
  std::ostringstream out_;
  std::ostringstream err_;
  ScriptedPasswords passwords_;
  testing::FakeRandom random_{1};
  CommandIo io_;
};

TEST_F(CommandTest, UserLifecycle) {
  passwords_.push(Secret("first"));
  UserAddOptions add = add_options("alice");
  add.uid = 1000;
  add.gid = 1000;
  add.home = "/home/alice";
  add.mail = "maildir:~/Maildir";
  ASSERT_EQ(run_user_add(add, io_), kExitOk) << err_.str();
  std::string stored = stored_password("alice");
  EXPECT_TRUE(stored.starts_with("{ARGON2ID}$argon2id$")) << stored;
  EXPECT_TRUE(auth::verify_password(stored, Secret("first")).is_ok());
  EXPECT_NE(read_text(path()).find(":1000:1000::/home/alice::userdb_mail=maildir:~/Maildir\n"),
            std::string::npos);

  passwords_.push(Secret("second"));
  UserPasswdOptions passwd{path(), "alice", "SHA512-CRYPT"};
  ASSERT_EQ(run_user_passwd(passwd, io_), kExitOk) << err_.str();
  stored = stored_password("alice");
  EXPECT_TRUE(stored.starts_with("{SHA512-CRYPT}$6$")) << stored;
  EXPECT_TRUE(auth::verify_password(stored, Secret("second")).is_ok());
  EXPECT_NE(read_text(path()).find("/home/alice"), std::string::npos);  // other fields kept

  passwords_.push(Secret("bobpw"));
  ASSERT_EQ(run_user_add(add_options("bob"), io_), kExitOk);
  out_.str("");
  ASSERT_EQ(run_user_list(UserListOptions{path()}, io_), kExitOk);
  EXPECT_EQ(out_.str(), "alice\nbob\n");

  ASSERT_EQ(run_user_del(UserDelOptions{path(), "alice"}, io_), kExitOk);
  out_.str("");
  ASSERT_EQ(run_user_list(UserListOptions{path()}, io_), kExitOk);
  EXPECT_EQ(out_.str(), "bob\n");
  EXPECT_TRUE(err_.str().empty()) << err_.str();
}

TEST_F(CommandTest, ListNeverPrintsPasswordsAndWarnsAboutBrokenLines) {
  std::ofstream(path()) << "alice:{PLAIN}Visible-Secret\nbroken:{PLAIN}Other-Secret:x\n";
  ASSERT_EQ(run_user_list(UserListOptions{path()}, io_), kExitOk);
  EXPECT_EQ(out_.str(), "alice\n");
  EXPECT_NE(err_.str().find(":2: uid is not a number"), std::string::npos) << err_.str();
  EXPECT_EQ((out_.str() + err_.str()).find("Secret"), std::string::npos);
}

TEST_F(CommandTest, UsageErrorsAreReportedBeforeAskingForAPassword) {
  EXPECT_EQ(run_user_add(add_options("bad name"), io_), kExitUsage);
  UserAddOptions bad_scheme = add_options("alice");
  bad_scheme.scheme = "ROT13";
  EXPECT_EQ(run_user_add(bad_scheme, io_), kExitUsage);
  EXPECT_NE(err_.str().find("poplar hash --list"), std::string::npos);
  UserAddOptions bad_mail = add_options("alice");
  bad_mail.mail = "maildir:/with space";
  EXPECT_EQ(run_user_add(bad_mail, io_), kExitUsage);
  EXPECT_EQ(run_user_passwd(UserPasswdOptions{path(), "a:b", "PLAIN"}, io_), kExitUsage);
  EXPECT_EQ(run_user_del(UserDelOptions{path(), ""}, io_), kExitUsage);
  EXPECT_EQ(run_hash(HashCommandOptions{"ROT13", false}, io_), kExitUsage);
  EXPECT_EQ(passwords_.asked(), 0);
  EXPECT_FALSE(std::filesystem::exists(path()));
}

TEST_F(CommandTest, ExistingAndMissingUsersAreDataErrors) {
  std::ofstream(path()) << "alice:{PLAIN}a\n";
  EXPECT_EQ(run_user_add(add_options("alice"), io_), kExitDataErr);
  EXPECT_NE(err_.str().find("already exists"), std::string::npos);
  EXPECT_EQ(run_user_passwd(UserPasswdOptions{path(), "bob", "PLAIN"}, io_), kExitDataErr);
  EXPECT_EQ(run_user_del(UserDelOptions{path(), "bob"}, io_), kExitDataErr);
  EXPECT_EQ(passwords_.asked(), 0);
  EXPECT_EQ(read_text(path()), "alice:{PLAIN}a\n");
}

TEST_F(CommandTest, MissingFileIsNoInputExceptForAdd) {
  EXPECT_EQ(run_user_passwd(UserPasswdOptions{path(), "bob", "PLAIN"}, io_), kExitNoInput);
  EXPECT_EQ(run_user_del(UserDelOptions{path(), "bob"}, io_), kExitNoInput);
  EXPECT_EQ(run_user_list(UserListOptions{path()}, io_), kExitNoInput);
  passwords_.push(Secret("pw"));
  EXPECT_EQ(run_user_add(add_options("bob"), io_), kExitOk);
}

TEST_F(CommandTest, PasswordProblemsAreReportedAndNothingIsWritten) {
  passwords_.push(Status::invalid_input("the passwords do not match"));
  EXPECT_EQ(run_user_add(add_options("alice"), io_), kExitDataErr);
  EXPECT_NE(err_.str().find("do not match"), std::string::npos);
  // Nothing on stdin at all.
  EXPECT_EQ(run_user_add(add_options("alice"), io_), kExitNoInput);
  // A {PLAIN} password the file cannot hold.
  passwords_.push(Secret("with:colon"));
  UserAddOptions plain = add_options("alice");
  plain.scheme = "PLAIN";
  EXPECT_EQ(run_user_add(plain, io_), kExitDataErr);
  EXPECT_FALSE(std::filesystem::exists(path()));
}

TEST_F(CommandTest, HashPrintsWhatDoveadmWouldForTheSameSalt) {
  // openssl passwd -6 -salt /6k.2IU/5UE08g.1 secret (FakeRandom(1) yields that salt).
  passwords_.push(Secret("secret"));
  ASSERT_EQ(run_hash(HashCommandOptions{"sha512-crypt", false}, io_), kExitOk);
  EXPECT_EQ(out_.str(),
            "{SHA512-CRYPT}$6$/6k.2IU/5UE08g.1$9H4XqyuCn/5uEdKvjh4UF2a.gs58KTDUPQBefXXpbJdoC9SQC9X4"
            "I2nfVYOY7dMB908eleQYm07fzOZJ3FeGr/\n");
}

TEST_F(CommandTest, HashListPrintsEveryScheme) {
  ASSERT_EQ(run_hash(HashCommandOptions{"", true}, io_), kExitOk);
  std::string expected;
  for (std::string_view s : auth::supported_schemes()) {
    expected += std::string(s) + "\n";
  }
  EXPECT_EQ(out_.str(), expected);
  EXPECT_EQ(passwords_.asked(), 0);
}

// Runs argv through a CLI11 app with the admin commands; returns the exit code the way main()
// would get it from CLI::App::exit().
int run_cli(const CommandIo& io, std::vector<std::string> args) {
  CLI::App app("poplar");
  app.require_subcommand(1);
  add_user_commands(app, io);
  add_hash_command(app, io);
  std::vector<const char*> argv = {"poplar"};
  for (const std::string& a : args) {
    argv.push_back(a.c_str());
  }
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    std::ostringstream ignored;
    return app.exit(e, ignored, ignored);
  }
  return 0;
}

TEST_F(CommandTest, CommandLineShapes) {
  passwords_.push(Secret("pw"));
  EXPECT_EQ(run_cli(io_, {"user", "add", "alice", "-f", path(), "--uid", "1000", "--gid", "1001",
                          "--home", "/home/alice", "--mail", "maildir:~/M", "-s", "SSHA512"}),
            0)
      << err_.str();
  EXPECT_TRUE(auth::verify_password(stored_password("alice"), Secret("pw")).is_ok());
  EXPECT_TRUE(stored_password("alice").starts_with("{SSHA512}"));
  EXPECT_NE(read_text(path()).find("alice:{SSHA512}"), std::string::npos);

  EXPECT_EQ(run_cli(io_, {"user", "add", "alice", "--file", path()}), kExitDataErr);
  passwords_.push(Secret("pw2"));
  EXPECT_EQ(run_cli(io_, {"user", "passwd", "alice", "-f", path(), "--scheme", "BLF-CRYPT"}), 0);
  EXPECT_TRUE(stored_password("alice").starts_with("{BLF-CRYPT}$2y$04$"));
  out_.str("");
  EXPECT_EQ(run_cli(io_, {"user", "list", "-f", path()}), 0);
  EXPECT_EQ(out_.str(), "alice\n");
  EXPECT_EQ(run_cli(io_, {"user", "del", "alice", "-f", path()}), 0);
  EXPECT_EQ(run_cli(io_, {"user", "del", "alice", "-f", path()}), kExitDataErr);

  out_.str("");
  EXPECT_EQ(run_cli(io_, {"hash", "--list"}), 0);
  EXPECT_NE(out_.str().find("ARGON2ID\n"), std::string::npos);
  passwords_.push(Secret("pw"));
  out_.str("");
  EXPECT_EQ(run_cli(io_, {"hash", "-s", "CRAM-MD5"}), 0);
  EXPECT_TRUE(out_.str().starts_with("{CRAM-MD5}"));

  // CLI11's own usage errors: a missing name, a non-numeric uid, no subcommand.
  EXPECT_NE(run_cli(io_, {"user", "add"}), 0);
  EXPECT_NE(run_cli(io_, {"user", "add", "bob", "--uid", "x"}), 0);
  EXPECT_NE(run_cli(io_, {"user"}), 0);
  // The password is never an argument.
  EXPECT_NE(run_cli(io_, {"user", "add", "bob", "-f", path(), "--password", "x"}), 0);
}

}  // namespace
}  // namespace poplar::admin
