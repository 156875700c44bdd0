// Tests for password_source.h: files, commands (output, exit statuses, timeouts, stdin) and the
// environment; no error message ever contains the password.
#include "fetch/password_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "testing/temp_dir.h"

namespace poplar::fetch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

PasswordSource file(const std::string& path) { return {PasswordSource::Kind::kFile, path}; }
PasswordSource command(const std::string& cmd) { return {PasswordSource::Kind::kCommand, cmd}; }

TEST(PasswordSourceTest, FileGivesItsFirstLineWithoutTheLineEnd) {
  testing::TempDir dir;
  const std::string path = dir.path().string() + "/pw";
  std::ofstream(path) << " s3cret pass \r\nsecond line\n";
  Result<Secret> r = read_password(file(path));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->view(), " s3cret pass ");  // spaces may belong to the password
  std::ofstream(path, std::ios::trunc) << "no-newline";
  EXPECT_EQ(read_password(file(path))->view(), "no-newline");
}

TEST(PasswordSourceTest, FileErrors) {
  testing::TempDir dir;
  Result<Secret> missing = read_password(file(dir.path().string() + "/none"));
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("password file"));
  const std::string path = dir.path().string() + "/empty";
  std::ofstream(path) << "\nhunter2\n";
  Result<Secret> empty = read_password(file(path));
  EXPECT_EQ(empty.status().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(empty.status().message(), Not(HasSubstr("hunter2")));
}

TEST(PasswordSourceTest, CommandGivesTheFirstLineItPrints) {
  Result<Secret> r = read_password(command("printf 'from-keyring\\nrest\\n'"));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->view(), "from-keyring");
}

TEST(PasswordSourceTest, CommandFailuresSayWhyWithoutThePassword) {
  Result<Secret> failed = read_password(command("echo hunter2; exit 3"));
  EXPECT_EQ(failed.status().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(failed.status().message(), HasSubstr("exit 3"));
  EXPECT_THAT(failed.status().message(), Not(HasSubstr("hunter2\n")));
  Result<Secret> later = read_password(command("exit 75"));
  EXPECT_EQ(later.status().code(), ErrorCode::kTemporary);
  Result<Secret> silent = read_password(command("true"));
  EXPECT_EQ(silent.status().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(silent.status().message(), HasSubstr("printed no password"));
  Result<Secret> loud = read_password(command("head -c 100000 /dev/zero | tr '\\0' x"));
  EXPECT_EQ(loud.status().code(), ErrorCode::kInvalidInput);
}

TEST(PasswordSourceTest, CommandIsKilledAtTheTimeoutWithEverythingItStarted) {
  const auto start = std::chrono::steady_clock::now();
  // The background sleep keeps the pipe open: only killing the process group ends it.
  Result<Secret> r = read_password(command("sleep 30 & sleep 30"), 300ms);
  EXPECT_EQ(r.status().code(), ErrorCode::kTemporary);
  EXPECT_THAT(r.status().message(), HasSubstr("was killed"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(PasswordSourceTest, CommandReadsNothingFromOurStdin) {
  // stdin is /dev/null: `cat` ends at once and prints nothing.
  Result<Secret> r = read_password(command("cat"), 5s);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
}

TEST(PasswordSourceTest, Environment) {
  ::setenv("POPLAR_PASSWORD", "from-env", 1);
  EXPECT_EQ(read_password(PasswordSource{})->view(), "from-env");
  ::unsetenv("POPLAR_PASSWORD");
  EXPECT_EQ(read_password(PasswordSource{}).status().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace poplar::fetch
