// Tests for demo.h: the demo data directory is complete, its config loads, the messages are
// well-formed Maildir files with correct size fields, and preparing twice changes no mailbox.
#include "server/demo.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/strict_number.h"
#include "config/config.h"
#include "config/mail_location.h"
#include "testing/temp_dir.h"

namespace poplar::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The value of a ",KEY=digits" field in a Maildir file name, or nullopt.
std::optional<uint64_t> name_field(const std::string& name, const std::string& key) {
  size_t pos = name.find("," + key + "=");
  if (pos == std::string::npos) {
    return std::nullopt;
  }
  size_t start = pos + key.size() + 2;
  size_t end = name.find_first_not_of("0123456789", start);
  return parse_u64(std::string_view(name).substr(start, end - start));
}

class DemoTest : public ::testing::Test {
 protected:
  Result<DemoSetup> prepare(uint16_t port = 1110) {
    return prepare_demo((dir_.path() / "demo").string(), port);
  }
  fs::path new_dir() const { return dir_.path() / "demo/home/demo/Maildir/new"; }
  fs::path cur_dir() const { return dir_.path() / "demo/home/demo/Maildir/cur"; }

  testing::TempDir dir_;
};

TEST_F(DemoTest, CreatesConfigUsersAndMaildir) {
  Result<DemoSetup> r = prepare();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  fs::path root = dir_.path() / "demo";
  EXPECT_EQ(r->data_dir, root.string());
  EXPECT_EQ(r->config_path, (root / "poplar.toml").string());
  EXPECT_EQ(r->maildir, (root / "home/demo/Maildir").string());
  EXPECT_TRUE(r->wrote_messages);
  EXPECT_TRUE(fs::is_regular_file(root / "poplar.toml"));
  EXPECT_TRUE(fs::is_regular_file(root / "users"));
  for (const char* sub : {"cur", "new", "tmp"}) {
    EXPECT_TRUE(fs::is_directory(root / "home/demo/Maildir" / sub)) << sub;
  }
  EXPECT_EQ(files_in(new_dir()).size(), 5u);
  EXPECT_TRUE(files_in(cur_dir()).empty());
  EXPECT_TRUE(files_in(root / "home/demo/Maildir/tmp").empty());
  // Only the expected files: no temporaries left behind.
  EXPECT_EQ(files_in(root).size(), 4u);  // home, poplar.toml, tls, users
  EXPECT_TRUE(fs::is_regular_file(root / "tls/cert.pem"));
  EXPECT_EQ(fs::status(root / "tls/key.pem").permissions() &
                (fs::perms::group_all | fs::perms::others_all),
            fs::perms::none);
}

TEST_F(DemoTest, PasswdFileHasDemoUserWithCurrentIds) {
  Result<DemoSetup> r = prepare();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  std::string users = read_file(dir_.path() / "demo/users");
  std::string line = "demo:{PLAIN}demo:" + std::to_string(getuid()) + ":" +
                     std::to_string(getgid()) + "::" + (dir_.path() / "demo/home/demo").string() +
                     "::\n";
  EXPECT_THAT(users, HasSubstr("\n" + line));
  // The password file holds a clear password: nobody else may read it.
  fs::perms perms = fs::status(dir_.path() / "demo/users").permissions();
  EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
}

TEST_F(DemoTest, ConfigLoadsAndPointsAtTheDemoFiles) {
  Result<DemoSetup> r = prepare(2110);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  Result<config::ServerConfig> c = config::load_config(r->config_path);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->hostname, "localhost");
  ASSERT_EQ(c->listen.size(), 2u);
  EXPECT_EQ(c->listen[0].address, "127.0.0.1:2110");
  EXPECT_EQ(c->listen[0].tls, config::TlsMode::kStartTls);
  EXPECT_EQ(c->listen[1].address, "127.0.0.1:1995");
  EXPECT_EQ(c->listen[1].tls, config::TlsMode::kImplicit);
  ASSERT_TRUE(c->tls.has_value());
  EXPECT_EQ(c->tls->certificate, (dir_.path() / "demo/tls/cert.pem").string());
  EXPECT_EQ(c->tls->private_key, (dir_.path() / "demo/tls/key.pem").string());
  EXPECT_EQ(c->auth.passwd_file, (dir_.path() / "demo/users").string());
  EXPECT_TRUE(c->auth.apop);
  EXPECT_FALSE(c->auth.plaintext_without_tls);
  EXPECT_EQ(c->mail.location, "maildir:%h/Maildir");
  EXPECT_TRUE(config::check_supported(*c).is_ok());

  Result<std::string> maildir = config::expand_mail_location(
      c->mail.location, config::MailUser{"demo", (dir_.path() / "demo/home/demo").string()});
  ASSERT_TRUE(maildir.is_ok()) << maildir.status().to_string();
  EXPECT_EQ(*maildir, r->maildir);
}

TEST_F(DemoTest, MessageNamesCarryFileAndWireSizes) {
  ASSERT_TRUE(prepare().is_ok());
  for (const fs::path& path : files_in(new_dir())) {
    std::string name = path.filename().string();
    std::string content = read_file(path);
    SCOPED_TRACE(name);
    EXPECT_EQ(name.find(':'), std::string::npos);  // new/ holds no info suffix
    EXPECT_THAT(name, ::testing::MatchesRegex("[0-9]+\\.M[0-9]+P[0-9]+Q[0-9]+\\.demo,S=[0-9]+,"
                                              "W=[0-9]+"));
    size_t lf = std::count(content.begin(), content.end(), '\n');
    size_t crlf = 0;
    for (size_t i = 1; i < content.size(); ++i) {
      crlf += content[i] == '\n' && content[i - 1] == '\r';
    }
    EXPECT_EQ(name_field(name, "S"), content.size());
    EXPECT_EQ(name_field(name, "W"), content.size() + (lf - crlf));
    EXPECT_TRUE(content.ends_with("\n"));  // a complete last line
    EXPECT_NE(content.find("\nSubject: "), std::string::npos);
    EXPECT_NE(content.find("\nMessage-ID: <"), std::string::npos);
  }
}

TEST_F(DemoTest, MessagesShowWhatPop3MustGetRight) {
  ASSERT_TRUE(prepare().is_ok());
  std::vector<std::string> messages;
  for (const fs::path& path : files_in(new_dir())) {
    messages.push_back(read_file(path));
  }
  ASSERT_EQ(messages.size(), 5u);
  auto any = [&](auto predicate) {
    return std::any_of(messages.begin(), messages.end(), predicate);
  };
  EXPECT_TRUE(any([](const std::string& m) { return m.find("Welcome to Poplar") != m.npos; }));
  // A lone "." line and lines with leading dots, stored unstuffed.
  EXPECT_TRUE(any([](const std::string& m) {
    return m.find("\r\n.\r\n") != m.npos && m.find("\r\n..two dots\r\n") != m.npos;
  }));
  EXPECT_TRUE(any([](const std::string& m) {
    return m.find("Content-Type: multipart/mixed; boundary=") != m.npos &&
           m.find("Content-Disposition: attachment;") != m.npos &&
           m.find("Content-Transfer-Encoding: base64") != m.npos;
  }));
  EXPECT_TRUE(any([](const std::string& m) { return m.size() >= 190 * 1024; }));
  // Bare LF line ends, and no CR anywhere.
  EXPECT_TRUE(any([](const std::string& m) {
    return m.find('\r') == m.npos && m.find("Subject: Stored with LF line ends\n") != m.npos;
  }));
}

TEST_F(DemoTest, AttachmentIsValidBase64) {
  ASSERT_TRUE(prepare().is_ok());
  std::string mime;
  for (const fs::path& path : files_in(new_dir())) {
    std::string m = read_file(path);
    if (m.find("multipart/mixed") != m.npos) {
      mime = m;
    }
  }
  ASSERT_FALSE(mime.empty());
  size_t start = mime.find("Content-Disposition: attachment;");
  start = mime.find("\r\n\r\n", start) + 4;
  size_t end = mime.find("\r\n\r\n--", start);
  ASSERT_NE(end, std::string::npos);
  std::string encoded = mime.substr(start, end - start);
  size_t chars = 0;
  for (std::string_view rest = encoded; !rest.empty();) {
    size_t eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    EXPECT_LE(line.size(), 76u);
    EXPECT_EQ(
        line.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
        std::string_view::npos);
    chars += line.size();
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
  }
  EXPECT_EQ(chars % 4, 0u);
  EXPECT_GT(chars, 100u);
  // "POP3 in one page" encodes to this prefix.
  EXPECT_TRUE(encoded.starts_with("UE9QMyBpbiBvbmUgcGFnZQ")) << encoded.substr(0, 30);
}

TEST_F(DemoTest, PreparingTwiceDoesNotDuplicateMessages) {
  ASSERT_TRUE(prepare().is_ok());
  std::vector<fs::path> first = files_in(new_dir());
  Result<DemoSetup> again = prepare();
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_FALSE(again->wrote_messages);
  EXPECT_EQ(files_in(new_dir()), first);
}

TEST_F(DemoTest, UsedMailboxKeepsItsState) {
  ASSERT_TRUE(prepare().is_ok());
  std::vector<fs::path> messages = files_in(new_dir());
  // A session read message 1 (moved to cur/ with the Seen flag) and deleted the rest.
  fs::rename(messages[0], cur_dir() / (messages[0].filename().string() + ":2,S"));
  for (size_t i = 1; i < messages.size(); ++i) {
    fs::remove(messages[i]);
  }
  Result<DemoSetup> again = prepare();
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_FALSE(again->wrote_messages);
  EXPECT_TRUE(files_in(new_dir()).empty());
  EXPECT_EQ(files_in(cur_dir()).size(), 1u);
}

TEST_F(DemoTest, EmptiedMailboxIsRefilled) {
  ASSERT_TRUE(prepare().is_ok());
  std::vector<fs::path> first = files_in(new_dir());
  for (const fs::path& p : first) {
    fs::remove(p);
  }
  Result<DemoSetup> again = prepare();
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_TRUE(again->wrote_messages);
  EXPECT_EQ(files_in(new_dir()), first);  // same names, so the same UIDLs as before
}

TEST_F(DemoTest, NewPortRewritesConfigButNotMailbox) {
  ASSERT_TRUE(prepare(1110).is_ok());
  std::vector<fs::path> first = files_in(new_dir());
  Result<DemoSetup> again = prepare(2222);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  Result<config::ServerConfig> c = config::load_config(again->config_path);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->listen[0].address, "127.0.0.1:2222");
  EXPECT_EQ(files_in(new_dir()), first);
}

TEST_F(DemoTest, InstructionsSayHowToConnect) {
  Result<DemoSetup> r = prepare(1110);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_THAT(r->how_to_connect, HasSubstr("curl pop3://demo:demo@127.0.0.1:1110/1"));
  EXPECT_THAT(r->how_to_connect, HasSubstr("poplib.POP3(\"127.0.0.1\", 1110)"));
  EXPECT_THAT(r->how_to_connect, HasSubstr("telnet 127.0.0.1 1110"));
  EXPECT_THAT(r->how_to_connect, HasSubstr(r->config_path));
  EXPECT_THAT(r->how_to_connect, HasSubstr("curl -k pop3s://demo:demo@127.0.0.1:1995/"));
  EXPECT_THAT(r->how_to_connect, HasSubstr("openssl s_client -connect 127.0.0.1:1995"));
}

TEST_F(DemoTest, CertificateIsMadeOnceAndKept) {
  ASSERT_TRUE(prepare().is_ok());
  std::string first = read_file(dir_.path() / "demo/tls/cert.pem");
  EXPECT_THAT(first, HasSubstr("-----BEGIN CERTIFICATE-----"));
  ASSERT_TRUE(prepare().is_ok());
  EXPECT_EQ(read_file(dir_.path() / "demo/tls/cert.pem"), first);
}

TEST_F(DemoTest, TrailingSlashIsAccepted) {
  Result<DemoSetup> r = prepare_demo((dir_.path() / "d").string() + "/", 1110);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->data_dir, (dir_.path() / "d").string());
}

TEST_F(DemoTest, UnusableDataDirIsAnError) {
  std::ofstream(dir_.path() / "file") << "x";
  Result<DemoSetup> r = prepare_demo((dir_.path() / "file" / "demo").string(), 1110);
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("file"));
}

}  // namespace
}  // namespace poplar::server
