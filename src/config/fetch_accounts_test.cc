// Tests for fetch_accounts.h: every key, [defaults] inheritance, path resolution, and each kind
// of error reported with its line.
#include "config/fetch_accounts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "testing/temp_dir.h"

namespace poplar::config {
namespace {

using ::testing::HasSubstr;

constexpr char kName[] = "fetch.toml";
constexpr char kBase[] = "/home/alice/.config/poplar";

// Stand-ins for fetch/'s parsers: enough to see that errors come back with their line.
FetchAccountValidators validators() {
  FetchAccountValidators v;
  v.url = [](std::string_view url) {
    return url.rfind("pop://", 0) == 0 || url.rfind("pops://", 0) == 0
               ? Status::ok()
               : Status::invalid_input("not a POP URL");
  };
  v.target = [](std::string_view t) {
    return t.rfind("maildir:", 0) == 0 || t.rfind("mbox:", 0) == 0 || t.rfind("mda:", 0) == 0
               ? Status::ok()
               : Status::invalid_input("expected maildir:DIR, mbox:FILE or mda:COMMAND");
  };
  v.fingerprint = [](std::string_view f) {
    return f.size() == 64 ? Status::ok() : Status::invalid_input("not a SHA-256 fingerprint");
  };
  v.folder = [](std::string_view f) {
    return f.find('/') == 0 ? Status::invalid_input("an empty level") : Status::ok();
  };
  return v;
}

Result<FetchConfig> parse(std::string_view text) {
  return parse_fetch_config(text, kName, kBase, validators());
}

std::string error_of(std::string_view text) {
  Result<FetchConfig> r = parse(text);
  EXPECT_FALSE(r.is_ok()) << "parsed although it should not:\n" << text;
  if (r.is_ok()) {
    return "";
  }
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  return r.status().message();
}

TEST(FetchAccountsTest, MinimalAccountGetsDocumentedDefaults) {
  Result<FetchConfig> r = parse(R"(
[[account]]
name = "work"
url = "pops://alice@mail.example.org"
target = "maildir:Mail/work"
)");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->accounts.size(), 1u);
  const FetchAccountConfig& a = r->accounts[0];
  EXPECT_EQ(a.name, "work");
  EXPECT_EQ(a.url, "pops://alice@mail.example.org");
  EXPECT_EQ(a.target, "maildir:/home/alice/.config/poplar/Mail/work");
  EXPECT_TRUE(a.keep);
  EXPECT_FALSE(a.keep_days.has_value());
  EXPECT_FALSE(a.max_size.has_value());
  EXPECT_FALSE(a.limit.has_value());
  EXPECT_EQ(a.password_file, "");
  EXPECT_EQ(a.password_command, "");
  EXPECT_FALSE(a.insecure_plaintext);
  EXPECT_FALSE(a.discover);
  EXPECT_EQ(a.timeout_s, 120u);
  EXPECT_EQ(a.line, 2u);
  EXPECT_EQ(r->source_path, kName);
}

TEST(FetchAccountsTest, EveryKeyIsRead) {
  ::setenv("HOME", "/home/alice", 1);
  Result<FetchConfig> r = parse(R"(
[[account]]
name = "home.box-1"
url = "pop://bob@pop.example.net"
user = "ignored-when-the-url-has-one"
password_file = "~/secret/home"
target = "mbox:/var/mail/bob"
keep_days = 14
max_size = 1000000
limit = 50
ca_file = "ca.pem"
fingerprint = "0000000000000000000000000000000000000000000000000000000000000000"
insecure_plaintext = true
discover = true
state = "/tmp/home.state"
timeout_s = 30

[[account]]
name = "list"
url = "pops://carol@example.com"
password_command = "pass show mail/carol"
target = "mda:procmail -d carol"
keep = false
)");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->accounts.size(), 2u);
  const FetchAccountConfig& a = r->accounts[0];
  EXPECT_EQ(a.password_file, "/home/alice/secret/home");
  EXPECT_EQ(a.target, "mbox:/var/mail/bob");
  EXPECT_TRUE(a.keep);
  EXPECT_EQ(a.keep_days, 14u);
  EXPECT_EQ(a.max_size, 1000000u);
  EXPECT_EQ(a.limit, 50u);
  EXPECT_EQ(a.ca_file, "/home/alice/.config/poplar/ca.pem");
  EXPECT_EQ(a.fingerprint.size(), 64u);
  EXPECT_TRUE(a.insecure_plaintext);
  EXPECT_TRUE(a.discover);
  EXPECT_EQ(a.state, "/tmp/home.state");
  EXPECT_EQ(a.timeout_s, 30u);
  const FetchAccountConfig& b = r->accounts[1];
  EXPECT_EQ(b.password_command, "pass show mail/carol");
  EXPECT_EQ(b.target, "mda:procmail -d carol");  // a command, not a path
  EXPECT_FALSE(b.keep);
}

TEST(FetchAccountsTest, DefaultsAreInheritedAndOverridden) {
  Result<FetchConfig> r = parse(R"(
[defaults]
target = "maildir:/srv/mail/inbox"
password_command = "secret-tool lookup mail pop"
keep_days = 30
timeout_s = 60

[[account]]
name = "a"
url = "pops://a@example.org"

[[account]]
name = "b"
url = "pops://b@example.org"
keep = false
password_file = "/etc/b.pass"
target = "mbox:/srv/mail/b"
)");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->accounts.size(), 2u);
  EXPECT_EQ(r->accounts[0].target, "maildir:/srv/mail/inbox");
  EXPECT_EQ(r->accounts[0].keep_days, 30u);
  EXPECT_EQ(r->accounts[0].password_command, "secret-tool lookup mail pop");
  EXPECT_EQ(r->accounts[0].timeout_s, 60u);
  EXPECT_FALSE(r->accounts[1].keep);
  EXPECT_FALSE(r->accounts[1].keep_days.has_value());  // keep = false beats inherited days
  EXPECT_EQ(r->accounts[1].password_file, "/etc/b.pass");
  EXPECT_EQ(r->accounts[1].password_command, "");  // its own source beats the inherited one
  EXPECT_EQ(r->accounts[1].target, "mbox:/srv/mail/b");
  EXPECT_EQ(r->accounts[1].timeout_s, 60u);
}

TEST(FetchAccountsTest, PasswordInTheFileIsRefusedWithoutRepeatingIt) {
  std::string e = error_of(R"(
[[account]]
name = "a"
url = "pops://a@example.org"
target = "maildir:/m"
password = "hunter2"
)");
  EXPECT_THAT(e, HasSubstr("fetch.toml:6: [[account]] password: passwords do not go in this file"));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("hunter2")));
}

TEST(FetchAccountsTest, EachErrorNamesItsLineAndAllAreReported) {
  std::string e = error_of(R"(
[defaults]
fingerprint = "ab"

[[account]]
name = "bad name!"
url = "http://example.org"
target = "file:/tmp/x"
keep = false
keep_days = 3
max_size = 0
timeout_s = 0
colour = "blue"

[[account]]
url = "pops://x@example.org"
target = "maildir:/m"
password_file = "/p"
password_command = "cat /p"
)");
  EXPECT_THAT(e, HasSubstr("fetch.toml:3: [defaults] unknown key \"fingerprint\""));
  EXPECT_THAT(e, HasSubstr("fetch.toml:6: [[account]] name: \"bad name!\": must be 1-64"));
  EXPECT_THAT(e, HasSubstr("fetch.toml:7: [[account]] url: not a POP URL"));
  EXPECT_THAT(e, HasSubstr("fetch.toml:8: [[account]] target: \"file:/tmp/x\": expected"));
  EXPECT_THAT(e, HasSubstr("fetch.toml:10: [[account]] keep_days: contradicts keep = false"));
  EXPECT_THAT(e, HasSubstr("fetch.toml:11: [[account]] max_size: must be at least 1"));
  EXPECT_THAT(e, HasSubstr("fetch.toml:12: [[account]] timeout_s: must be at least 1"));
  EXPECT_THAT(e, HasSubstr("fetch.toml:13: [[account]] unknown key \"colour\""));
  EXPECT_THAT(e, HasSubstr("fetch.toml:15: [[account]] name: missing"));
  EXPECT_THAT(e, HasSubstr("fetch.toml:19: [[account]] password_command: give password_file or "
                           "password_command, not both"));
}

TEST(FetchAccountsTest, StructuralErrors) {
  EXPECT_THAT(error_of(""), HasSubstr("no [[account]] table"));
  EXPECT_THAT(error_of("account = 3"), HasSubstr("must be an array of tables"));
  EXPECT_THAT(
      error_of("defaults = 3\n[[account]]\nname=\"a\"\nurl=\"pop://a@b\"\ntarget=\"mda:x\""),
      HasSubstr("fetch.toml:1: defaults: must be a table"));
  EXPECT_THAT(error_of("[[account]]\nname = \"a\"\nurl = \"pop://a@b\"\n"),
              HasSubstr("fetch.toml:1: [[account]] target: missing here and in [defaults]"));
  EXPECT_THAT(error_of("[[account]]\nname = 'a'\nurl = 'pop://a@b'\ntarget = 'mda:x'\n"
                       "[[account]]\nname = 'a'\nurl = 'pop://c@d'\ntarget = 'mda:y'\n"),
              HasSubstr("fetch.toml:6: [[account]] name: \"a\" is used by an earlier account"));
  EXPECT_THAT(error_of("[[account]\n"), HasSubstr("fetch.toml:1: "));
  EXPECT_THAT(error_of("[[account]]\nname = 'a' é\n"), HasSubstr("non-ASCII"));
  EXPECT_THAT(error_of("[[account]]\nname='a'\nurl='pop://a@b'\ntarget='maildir:'\n"),
              HasSubstr("target: must not be empty"));
}

TEST(FetchAccountsTest, LoadReadsTheFileAndResolvesAgainstItsDirectory) {
  testing::TempDir dir;
  std::string path = dir.path().string() + "/fetch.toml";
  std::ofstream(path) << "[[account]]\nname = 'a'\nurl = 'pop://a@b'\ntarget = 'maildir:m'\n";
  Result<FetchConfig> r = load_fetch_config(path, validators());
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->accounts[0].target, "maildir:" + dir.path().string() + "/m");
  Result<FetchConfig> missing = load_fetch_config(dir.path().string() + "/none.toml", validators());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

TEST(FetchAccountsTest, Pop4FolderKeysAreReadInheritedAndValidated) {
  Result<FetchConfig> r = parse(R"(
[defaults]
target = "maildir:/m"
move_to = "Archive"

[[account]]
name = "a"
url = "pops://alice@example.org"
folder = "Sent Items"
keep = false

[[account]]
name = "b"
url = "pops://bob@example.org"
move_to = "Old Mail"
)");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->accounts.size(), 2u);
  EXPECT_EQ(r->accounts[0].folder, "Sent Items");
  EXPECT_EQ(r->accounts[0].move_to, "Archive");
  EXPECT_EQ(r->accounts[1].folder, "");
  EXPECT_EQ(r->accounts[1].move_to, "Old Mail");
  std::string error = error_of(R"(
[[account]]
name = "a"
url = "pops://alice@example.org"
target = "maildir:/m"
folder = "/x"
move_to = 3
)");
  EXPECT_THAT(error, HasSubstr("fetch.toml:6: [[account]] folder: an empty level"));
  EXPECT_THAT(error, HasSubstr("fetch.toml:7: [[account]] move_to:"));
}

}  // namespace
}  // namespace poplar::config
