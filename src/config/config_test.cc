// Tests for config.h: every key of DESIGN §5, defaults, each kind of error with its line, and
// relative path resolution.
#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "testing/temp_dir.h"

namespace poplar::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kName[] = "poplar.toml";
constexpr char kBase[] = "/etc/poplar";

Result<ServerConfig> parse(std::string_view text) { return parse_config(text, kName, kBase); }

// The message of a failed parse; fails the test if the parse succeeded.
std::string error_of(std::string_view text) {
  Result<ServerConfig> r = parse(text);
  EXPECT_FALSE(r.is_ok()) << "parsed although it should not:\n" << text;
  if (r.is_ok()) {
    return "";
  }
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  return r.status().message();
}

TEST(ConfigTest, EmptyFileGivesDocumentedDefaults) {
  Result<ServerConfig> r = parse("");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const ServerConfig& c = *r;
  EXPECT_FALSE(c.hostname.empty());  // gethostname()
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.group, "");
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].address, "0.0.0.0:110");
  EXPECT_EQ(c.listen[0].tls, TlsMode::kNone);
  EXPECT_FALSE(c.tls.has_value());
  EXPECT_EQ(c.auth.passwd_file, "/etc/poplar/users");
  EXPECT_EQ(c.auth.mechanisms,
            (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"}));
  EXPECT_FALSE(c.auth.apop);
  EXPECT_FALSE(c.auth.plaintext_without_tls);
  EXPECT_EQ(c.auth.failure_delay_s, 2u);
  EXPECT_EQ(c.auth.max_failures, 3u);
  EXPECT_FALSE(c.pop3.expire_days.has_value());
  EXPECT_EQ(c.pop3.login_delay_s, 0u);
  EXPECT_TRUE(c.pop3.client_workarounds.empty());
  EXPECT_FALSE(c.pop3.refuse_utf8_headers);
  EXPECT_EQ(c.mail.location, "maildir:%h/Maildir");
  EXPECT_EQ(c.limits.idle_timeout_s, 600u);
  EXPECT_EQ(c.limits.login_timeout_s, 60u);
  EXPECT_EQ(c.limits.max_connections, 10000u);
  EXPECT_EQ(c.limits.max_connections_per_ip, 50u);
  EXPECT_EQ(c.limits.max_bad_commands, 20u);
  EXPECT_EQ(c.limits.max_stor_octets, 50u * 1024 * 1024);
  EXPECT_TRUE(c.pop4.enabled);
  EXPECT_FALSE(c.pop4.banner);
  EXPECT_EQ(c.source_path, kName);
}

TEST(ConfigTest, EveryKeyIsRead) {
  Result<ServerConfig> r = parse(R"(
hostname = "mail.example.org"
user = "vmail"
group = "mail"

[[listen]]
address = "0.0.0.0:110"
tls = "starttls"

[[listen]]
address = "[::]:995"
tls = "implicit"

[[listen]]
address = "localhost:1110"
tls = "none"

[tls]
certificate = "/etc/ssl/cert.pem"
private_key = "key.pem"

[auth]
passwd_file = "/srv/users"
mechanisms = ["SCRAM-SHA-256", "plain"]
apop = true
plaintext_without_tls = true
failure_delay_s = 5
max_failures = 7

[pop3]
expire = 30
login_delay_s = 900
client_workarounds = ["outlook-no-nuls", "oe-ns-eoh"]
utf8_headers = "refuse"

[mail]
location = "maildir:/var/mail/%d/%n"

[limits]
idle_timeout_s = 1800
login_timeout_s = 30
max_connections = 500
max_connections_per_ip = 5
max_bad_commands = 3
max_stor_octets = 1000000

[pop4]
enabled = false
banner = true
)");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const ServerConfig& c = *r;
  EXPECT_EQ(c.hostname, "mail.example.org");
  EXPECT_EQ(c.user, "vmail");
  EXPECT_EQ(c.group, "mail");
  ASSERT_EQ(c.listen.size(), 3u);
  EXPECT_EQ(c.listen[0].address, "0.0.0.0:110");
  EXPECT_EQ(c.listen[0].tls, TlsMode::kStartTls);
  EXPECT_EQ(c.listen[1].address, "[::]:995");
  EXPECT_EQ(c.listen[1].tls, TlsMode::kImplicit);
  EXPECT_EQ(c.listen[2].address, "localhost:1110");
  EXPECT_EQ(c.listen[2].tls, TlsMode::kNone);
  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->certificate, "/etc/ssl/cert.pem");
  EXPECT_EQ(c.tls->private_key, "/etc/poplar/key.pem");
  EXPECT_EQ(c.auth.passwd_file, "/srv/users");
  EXPECT_EQ(c.auth.mechanisms, (std::vector<std::string>{"SCRAM-SHA-256", "PLAIN"}));
  EXPECT_TRUE(c.auth.apop);
  EXPECT_TRUE(c.auth.plaintext_without_tls);
  EXPECT_EQ(c.auth.failure_delay_s, 5u);
  EXPECT_EQ(c.auth.max_failures, 7u);
  EXPECT_EQ(c.pop3.expire_days, std::optional<uint32_t>(30));
  EXPECT_EQ(c.pop3.login_delay_s, 900u);
  EXPECT_EQ(c.pop3.client_workarounds, (std::vector<std::string>{"outlook-no-nuls", "oe-ns-eoh"}));
  EXPECT_TRUE(c.pop3.refuse_utf8_headers);
  EXPECT_EQ(c.mail.location, "maildir:/var/mail/%d/%n");
  EXPECT_EQ(c.limits.idle_timeout_s, 1800u);
  EXPECT_EQ(c.limits.login_timeout_s, 30u);
  EXPECT_EQ(c.limits.max_connections, 500u);
  EXPECT_EQ(c.limits.max_connections_per_ip, 5u);
  EXPECT_EQ(c.limits.max_stor_octets, 1000000u);
  EXPECT_EQ(c.limits.max_bad_commands, 3u);
  EXPECT_FALSE(c.pop4.enabled);
  EXPECT_TRUE(c.pop4.banner);
}

// The example of DESIGN §5, verbatim: the public interface external tests rely on.
TEST(ConfigTest, DesignExampleParses) {
  Result<ServerConfig> r = parse(R"(hostname = "mail.example.org"          # greeting
user = "vmail"
group = "vmail"

[[listen]]
address = "0.0.0.0:110"                 # host:port; [::]:110 for IPv6
tls = "starttls"                        # "none" | "starttls" | "implicit"

[[listen]]
address = "0.0.0.0:995"
tls = "implicit"

[tls]
certificate = "/etc/poplar/cert.pem"    # PEM chain
private_key = "/etc/poplar/key.pem"

[auth]
passwd_file = "/etc/poplar/users"
mechanisms = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"]
apop = false
plaintext_without_tls = false
failure_delay_s = 2
max_failures = 3

[pop3]
expire = "never"
login_delay_s = 0

[mail]
location = "maildir:%h/Maildir"

[limits]
idle_timeout_s = 600
max_connections = 10000
max_connections_per_ip = 50

[pop4]
enabled = true
banner = false
)");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->listen.size(), 2u);
  EXPECT_FALSE(r->pop3.expire_days.has_value());
}

TEST(ConfigTest, UnknownTopLevelKeyNamesKeyAndLine) {
  EXPECT_EQ(error_of("hostname = \"a.example\"\n\nlistn = 3\n"),
            "poplar.toml:3: unknown key \"listn\"");
}

TEST(ConfigTest, UnknownKeyInSectionNamesSectionKeyAndLine) {
  EXPECT_EQ(error_of("[limits]\nidle_timeout_s = 900\nidle_timeout = 900\n"),
            "poplar.toml:3: [limits] unknown key \"idle_timeout\"");
  EXPECT_EQ(error_of("[auth]\napop = true\n\n[pop4]\nbaner = true\n"),
            "poplar.toml:5: [pop4] unknown key \"baner\"");
  EXPECT_EQ(error_of("[[listen]]\naddress = \"0.0.0.0:110\"\nport = 110\n"),
            "poplar.toml:3: [[listen]] unknown key \"port\"");
  EXPECT_EQ(error_of("[tls]\ncertificate = \"c\"\nprivate_key = \"k\"\nca = \"x\"\n"),
            "poplar.toml:4: [tls] unknown key \"ca\"");
}

TEST(ConfigTest, UnknownSectionIsAnUnknownKey) {
  EXPECT_EQ(error_of("\n[limit]\nidle_timeout_s = 900\n"), "poplar.toml:2: unknown key \"limit\"");
}

TEST(ConfigTest, NestedTableInsideSectionIsUnknown) {
  EXPECT_EQ(error_of("[limits]\n[limits.extra]\nx = 1\n"),
            "poplar.toml:2: [limits] unknown key \"extra\"");
}

TEST(ConfigTest, IdleTimeoutBelowRfc1939MinimumIsRefused) {
  EXPECT_EQ(error_of("# comment\n\n[limits]\nidle_timeout_s = 599\n"),
            "poplar.toml:4: [limits] idle_timeout_s: must be at least 600 (RFC 1939 autologout "
            "minimum)");
  Result<ServerConfig> r = parse("[limits]\nidle_timeout_s = 600\n");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->limits.idle_timeout_s, 600u);
}

TEST(ConfigTest, WrongTypeNamesKeyLineAndTypes) {
  EXPECT_EQ(error_of("[auth]\napop = \"yes\"\n"),
            "poplar.toml:2: [auth] apop: must be true or false, not a string");
  EXPECT_EQ(error_of("[limits]\nmax_connections = 1.5\n"),
            "poplar.toml:2: [limits] max_connections: must be an integer, not a float");
  EXPECT_EQ(error_of("hostname = 42\n"),
            "poplar.toml:1: hostname: must be a string, not an integer");
  EXPECT_EQ(error_of("[pop4]\nenabled = 1\n"),
            "poplar.toml:2: [pop4] enabled: must be true or false, not an integer");
  EXPECT_EQ(error_of("[auth]\npasswd_file = [\"a\"]\n"),
            "poplar.toml:2: [auth] passwd_file: must be a string, not an array");
}

TEST(ConfigTest, SectionOfWrongTypeIsRefused) {
  EXPECT_EQ(error_of("limits = 5\n"),
            "poplar.toml:1: limits: must be a table ([limits]), not an integer");
}

TEST(ConfigTest, IntegerRangesAreChecked) {
  EXPECT_EQ(error_of("[auth]\nfailure_delay_s = -1\n"),
            "poplar.toml:2: [auth] failure_delay_s: must not be negative");
  EXPECT_EQ(error_of("[limits]\nmax_connections = 4294967296\n"),
            "poplar.toml:2: [limits] max_connections: must be at most 4294967295");
  EXPECT_THAT(error_of("[limits]\nlogin_timeout_s = 0\n"),
              StartsWith("poplar.toml:2: [limits] login_timeout_s: must be at least 1"));
  EXPECT_THAT(error_of("[limits]\nmax_connections = 0\n"),
              StartsWith("poplar.toml:2: [limits] max_connections: must be at least 1"));
  EXPECT_THAT(error_of("[limits]\nmax_connections_per_ip = 0\n"),
              StartsWith("poplar.toml:2: [limits] max_connections_per_ip: must be at least 1"));
  EXPECT_THAT(error_of("[limits]\nmax_bad_commands = 0\n"),
              StartsWith("poplar.toml:2: [limits] max_bad_commands: must be at least 1"));
  EXPECT_THAT(error_of("[auth]\nmax_failures = 0\n"),
              StartsWith("poplar.toml:2: [auth] max_failures: must be at least 1"));
  EXPECT_THAT(error_of("[pop3]\nlogin_delay_s = -5\n"),
              StartsWith("poplar.toml:2: [pop3] login_delay_s: must not be negative"));

  Result<ServerConfig> r = parse("[auth]\nfailure_delay_s = 0\n[pop3]\nlogin_delay_s = 0x10\n");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->auth.failure_delay_s, 0u);
  EXPECT_EQ(r->pop3.login_delay_s, 16u);
}

TEST(ConfigTest, ExpireAcceptsNeverIntegerAndNumericString) {
  struct Case {
    const char* text;
    std::optional<uint32_t> days;
  };
  for (const Case& c : {Case{"\"never\"", std::nullopt}, Case{"\"NEVER\"", std::nullopt},
                        Case{"0", 0u}, Case{"30", 30u}, Case{"\"30\"", 30u}}) {
    Result<ServerConfig> r = parse(std::string("[pop3]\nexpire = ") + c.text + "\n");
    ASSERT_TRUE(r.is_ok()) << c.text << ": " << r.status().to_string();
    EXPECT_EQ(r->pop3.expire_days, c.days) << c.text;
  }
}

TEST(ConfigTest, ExpireRefusesOtherValues) {
  EXPECT_EQ(error_of("[pop3]\nexpire = -1\n"),
            "poplar.toml:2: [pop3] expire: must be \"never\" or a number of days (0 or more)");
  EXPECT_EQ(error_of("[pop3]\nexpire = \"soon\"\n"),
            "poplar.toml:2: [pop3] expire: \"soon\": must be \"never\" or a number of days (0 or "
            "more)");
  EXPECT_THAT(error_of("[pop3]\nexpire = \"-3\"\n"), HasSubstr("[pop3] expire: \"-3\""));
  EXPECT_THAT(error_of("[pop3]\nexpire = \" 3\"\n"), HasSubstr("[pop3] expire: \" 3\""));
  EXPECT_EQ(error_of("[pop3]\nexpire = 2.5\n"),
            "poplar.toml:2: [pop3] expire: must be \"never\" or a number of days (0 or more), "
            "not a float");
  EXPECT_THAT(error_of("[pop3]\nexpire = true\n"), HasSubstr("not a boolean"));
}

TEST(ConfigTest, Utf8HeadersIsSendOrRefuse) {
  EXPECT_EQ(error_of("[pop3]\nutf8_headers = \"downgrade\"\n"),
            "poplar.toml:2: [pop3] utf8_headers: \"downgrade\": must be \"send\" or \"refuse\"");
  EXPECT_THAT(error_of("[pop3]\nutf8_headers = true\n"), HasSubstr("must be a string"));
}

TEST(ConfigTest, ClientWorkaroundsAreChecked) {
  EXPECT_EQ(error_of("[pop3]\nclient_workarounds = [\"oe-ns-eoh\",\n  \"outlook\"]\n"),
            "poplar.toml:3: [pop3] client_workarounds: unknown value \"outlook\" (known: "
            "\"outlook-no-nuls\", \"oe-ns-eoh\")");
  EXPECT_THAT(error_of("[pop3]\nclient_workarounds = \"oe-ns-eoh\"\n"),
              HasSubstr("[pop3] client_workarounds: must be an array of strings, not a string"));
  EXPECT_THAT(error_of("[pop3]\nclient_workarounds = [\"oe-ns-eoh\", \"oe-ns-eoh\"]\n"),
              HasSubstr("\"oe-ns-eoh\" is listed twice"));
  EXPECT_THAT(error_of("[pop3]\nclient_workarounds = [1]\n"),
              HasSubstr("found an element that is an integer"));
}

TEST(ConfigTest, MechanismsAreCheckedAndUpperCased) {
  Result<ServerConfig> r = parse("[auth]\nmechanisms = [\"cram-md5\", \"Login\"]\n");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->auth.mechanisms, (std::vector<std::string>{"CRAM-MD5", "LOGIN"}));

  r = parse("[auth]\nmechanisms = [\"scram-sha-1\"]\n");  // -PLUS variants are derived
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->auth.mechanisms, (std::vector<std::string>{"SCRAM-SHA-1"}));
  r = parse("[auth]\nmechanisms = []\n");  // USER/PASS (and APOP) only
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(r->auth.mechanisms.empty());

  EXPECT_THAT(error_of("[auth]\nmechanisms = [\"DIGEST-MD5\"]\n"),
              StartsWith("poplar.toml:2: [auth] mechanisms: unknown value \"DIGEST-MD5\""));
  EXPECT_THAT(error_of("[auth]\nmechanisms = [\"PLAIN\", \"plain\"]\n"),
              HasSubstr("\"plain\" is listed twice"));
}

TEST(ConfigTest, RelativePathsResolveAgainstBaseDir) {
  Result<ServerConfig> r = parse(R"(
[[listen]]
address = "127.0.0.1:995"
tls = "implicit"
[tls]
certificate = "tls/cert.pem"
private_key = "../private/./key.pem"
[auth]
passwd_file = "users"
[mail]
location = "maildir:mail/%d/%n"
)");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->tls->certificate, "/etc/poplar/tls/cert.pem");
  EXPECT_EQ(r->tls->private_key, "/etc/private/key.pem");
  EXPECT_EQ(r->auth.passwd_file, "/etc/poplar/users");
  EXPECT_EQ(r->mail.location, "maildir:/etc/poplar/mail/%d/%n");
}

TEST(ConfigTest, AbsoluteAndHomePathsAreKept) {
  Result<ServerConfig> r = parse(
      "[auth]\npasswd_file = \"/srv/poplar/users\"\n[mail]\nlocation = \"maildir:%h/Mail\"\n");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->auth.passwd_file, "/srv/poplar/users");
  EXPECT_EQ(r->mail.location, "maildir:%h/Mail");
}

TEST(ConfigTest, EmptyBaseDirMeansCurrentDirectory) {
  Result<ServerConfig> r = parse_config("[auth]\npasswd_file = \"users\"\n", "x.toml", "");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->auth.passwd_file,
            (std::filesystem::current_path() / "users").lexically_normal().string());
}

TEST(ConfigTest, EmptyPathIsRefused) {
  EXPECT_EQ(error_of("[auth]\npasswd_file = \"\"\n"),
            "poplar.toml:2: [auth] passwd_file: must not be empty");
}

TEST(ConfigTest, MailLocationErrorsNameKeyAndLine) {
  EXPECT_EQ(error_of("[mail]\nlocation = \"mbox:~/mbox\"\n"),
            "poplar.toml:2: [mail] location: \"mbox:~/mbox\": scheme \"mbox\" is not supported "
            "(only \"maildir:\" for now)");
  EXPECT_THAT(error_of("[mail]\nlocation = \"/var/mail/%u\"\n"),
              HasSubstr("[mail] location: \"/var/mail/%u\": must start with \"maildir:\""));
  EXPECT_THAT(error_of("[mail]\nlocation = \"maildir:/var/%x\"\n"),
              HasSubstr("poplar.toml:2: [mail] location: \"maildir:/var/%x\": unknown escape "
                        "\"%x\""));
  EXPECT_THAT(error_of("[mail]\nlocation = \"maildir:~/Maildir\"\n"), HasSubstr("use %h"));
  EXPECT_THAT(error_of("[mail]\nlocation = \"maildir:\"\n"), HasSubstr("empty"));
  EXPECT_THAT(error_of("[mail]\nlocation = 3\n"),
              HasSubstr("[mail] location: must be a string, not an integer"));
}

TEST(ConfigTest, ListenAddressesAreValidated) {
  EXPECT_EQ(error_of("[[listen]]\naddress = \"0.0.0.0:65536\"\n"),
            "poplar.toml:2: [[listen]] address: \"0.0.0.0:65536\": port must be a number from 0 "
            "to 65535");
  EXPECT_THAT(error_of("[[listen]]\naddress = \"::1:110\"\n"),
              HasSubstr("an IPv6 address must be in brackets"));
  EXPECT_THAT(error_of("[[listen]]\naddress = \"0.0.0.0\"\n"), HasSubstr("missing \":port\""));
  EXPECT_THAT(error_of("[[listen]]\naddress = \"300.1.1.1:110\"\n"),
              HasSubstr("invalid IPv4 address"));
  EXPECT_THAT(error_of("[[listen]]\ntls = \"none\"\n"),
              StartsWith("poplar.toml:1: [[listen]] address: missing"));
  EXPECT_EQ(error_of("[[listen]]\naddress = \"0.0.0.0:110\"\ntls = \"ssl\"\n"),
            "poplar.toml:3: [[listen]] tls: unknown value \"ssl\" (known: \"none\", "
            "\"starttls\", \"implicit\")");
  EXPECT_EQ(error_of("[[listen]]\naddress = \"0.0.0.0:110\"\n[[listen]]\naddress = "
                     "\"0.0.0.0:110\"\n"),
            "poplar.toml:4: [[listen]] address: \"0.0.0.0:110\" is listed twice");
}

TEST(ConfigTest, ListenMustBeANonEmptyArrayOfTables) {
  EXPECT_EQ(error_of("listen = []\n"), "poplar.toml:1: listen: at least one [[listen]] is needed");
  EXPECT_EQ(error_of("listen = \"0.0.0.0:110\"\n"),
            "poplar.toml:1: listen: must be an array of tables (write [[listen]]), not a string");
  EXPECT_EQ(error_of("[listen]\naddress = \"0.0.0.0:110\"\n"),
            "poplar.toml:1: listen: must be an array of tables (write [[listen]]), not a table");
}

TEST(ConfigTest, IPv6AndPortZeroListenersAreAccepted) {
  // Port 0 twice is fine: each listener gets its own free port.
  Result<ServerConfig> r = parse(
      "[[listen]]\naddress = \"[::1]:0\"\n[[listen]]\naddress = \"[::]:110\"\n[[listen]]\n"
      "address = \"127.0.0.1:110\"\n[[listen]]\naddress = \"[::1]:0\"\n");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->listen.size(), 4u);
  EXPECT_EQ(r->listen[0].address, "[::1]:0");
}

// The parser stores TLS listeners even without a [tls] table; check_supported() then refuses
// them with a message naming the missing table and its keys.
TEST(ConfigTest, TlsListenerWithoutTlsTableParsesAndIsRefusedLater) {
  Result<ServerConfig> r = parse("[[listen]]\naddress = \"0.0.0.0:995\"\ntls = \"implicit\"\n");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->listen[0].tls, TlsMode::kImplicit);
  Status s = check_supported(*r);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(s.message(), HasSubstr("tls = \"implicit\" needs a [tls] table with certificate "
                                     "and private_key"));
}

TEST(ConfigTest, TlsTableNeedsBothFiles) {
  EXPECT_EQ(error_of("[tls]\ncertificate = \"/c.pem\"\n"),
            "poplar.toml:1: [tls] private_key: missing (a PEM file)");
  EXPECT_THAT(error_of("[tls]\nprivate_key = \"/k.pem\"\n"),
              StartsWith("poplar.toml:1: [tls] certificate: missing"));
}

TEST(ConfigTest, HostnameIsValidated) {
  EXPECT_THAT(error_of("hostname = \"mail example\"\n"),
              StartsWith("poplar.toml:1: hostname: must be a DNS name"));
  EXPECT_THAT(error_of("hostname = \"<evil>\"\n"), StartsWith("poplar.toml:1: hostname:"));
  EXPECT_THAT(error_of("hostname = \"\"\n"), StartsWith("poplar.toml:1: hostname:"));
}

TEST(ConfigTest, UserAndGroupAreChecked) {
  EXPECT_THAT(error_of("group = \"mail\"\n"),
              StartsWith("poplar.toml:1: group: is set but user is not"));
  EXPECT_THAT(error_of("user = \"\"\n"), StartsWith("poplar.toml:1: user: must not be empty"));
  Result<ServerConfig> r = parse("user = \"vmail\"\n");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->user, "vmail");
  EXPECT_EQ(r->group, "");
}

TEST(ConfigTest, AllProblemsAreReportedSortedByLine) {
  std::string message = error_of(
      "[limits]\n"
      "max_connections = 0\n"  // 2
      "idle_timeout_s = 10\n"  // 3
      "\n"
      "[auth]\n"
      "apop = 1\n"  // 6
      "\n"
      "bogus = 2\n");  // 8
  EXPECT_THAT(message, StartsWith("poplar.toml:2: [limits] max_connections:"));
  EXPECT_THAT(message, HasSubstr("\npoplar.toml:3: [limits] idle_timeout_s:"));
  EXPECT_THAT(message, HasSubstr("\npoplar.toml:6: [auth] apop:"));
  EXPECT_THAT(message, HasSubstr("\npoplar.toml:8: [auth] unknown key \"bogus\""));
}

TEST(ConfigTest, SyntaxErrorNamesLine) {
  std::string message = error_of("hostname = \"a.example\"\n[limits\nidle_timeout_s = 900\n");
  EXPECT_THAT(message, StartsWith("poplar.toml:2: "));
}

TEST(ConfigTest, DuplicateKeyIsASyntaxErrorWithLine) {
  std::string message = error_of("[auth]\napop = true\napop = false\n");
  EXPECT_THAT(message, StartsWith("poplar.toml:3: "));
}

TEST(ConfigTest, ControlCharactersInValuesAreEscapedInMessages) {
  std::string message = error_of("[pop3]\nexpire = \"a\\u001bb\"\n");
  EXPECT_THAT(message, HasSubstr("\"a\\x1bb\""));
  EXPECT_EQ(message.find('\x1b'), std::string::npos);
}

TEST(ConfigTest, CheckSupportedAcceptsTlsListenersWithATlsTable) {
  Result<ServerConfig> plain = parse("[[listen]]\naddress = \"127.0.0.1:110\"\n");
  ASSERT_TRUE(plain.is_ok());
  EXPECT_TRUE(check_supported(*plain).is_ok());

  Result<ServerConfig> tls = parse(
      "[[listen]]\naddress = \"127.0.0.1:110\"\n[[listen]]\naddress = \"127.0.0.1:111\"\ntls = "
      "\"starttls\"\n[tls]\ncertificate = \"c\"\nprivate_key = \"k\"\n");
  ASSERT_TRUE(tls.is_ok()) << tls.status().to_string();
  EXPECT_TRUE(check_supported(*tls).is_ok());

  Result<ServerConfig> no_table = parse(
      "[[listen]]\naddress = \"127.0.0.1:110\"\n[[listen]]\naddress = \"127.0.0.1:111\"\ntls = "
      "\"starttls\"\n");
  ASSERT_TRUE(no_table.is_ok()) << no_table.status().to_string();
  Status s = check_supported(*no_table);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(s.message(), HasSubstr("127.0.0.1:111"));
  EXPECT_THAT(s.message(), HasSubstr(": tls = \"starttls\" needs a [tls] table"));
  EXPECT_THAT(s.message(), StartsWith("poplar.toml: "));
}

TEST(ConfigTest, TlsModeNamesMatchTheFile) {
  EXPECT_EQ(tls_mode_name(TlsMode::kNone), "none");
  EXPECT_EQ(tls_mode_name(TlsMode::kStartTls), "starttls");
  EXPECT_EQ(tls_mode_name(TlsMode::kImplicit), "implicit");
}

TEST(ListenAddressTest, ParsesHostAndPort) {
  Result<ListenAddress> a = parse_listen_address("0.0.0.0:110");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 110);
  a = parse_listen_address("[::]:995");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->host, "::");
  EXPECT_EQ(a->port, 995);
  a = parse_listen_address("[2001:db8::1]:65535");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->host, "2001:db8::1");
  EXPECT_EQ(a->port, 65535);
  a = parse_listen_address("localhost:0");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 0);
}

TEST(ListenAddressTest, RefusesMalformedAddresses) {
  for (const char* bad :
       {"", ":110", "0.0.0.0", "0.0.0.0:", "0.0.0.0:+1", "0.0.0.0:-1", "0.0.0.0: 110",
        "0.0.0.0:65536", "0.0.0.0:99999999999", "[::1]", "[::1]110", "[::1:110", "[zz]:110",
        "::1:110", "1.2.3:110", "bad host:110", "-x:110", "x-:110", "a..b:110"}) {
    EXPECT_FALSE(parse_listen_address(bad).is_ok()) << bad;
  }
}

class LoadConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    std::filesystem::path p = dir_.path() / name;
    std::ofstream(p) << text;
    return p.string();
  }
  testing::TempDir dir_;
};

TEST_F(LoadConfigTest, ResolvesPathsAgainstTheFilesDirectory) {
  std::filesystem::create_directories(dir_.path() / "etc");
  std::string path = write("etc/poplar.toml", "[auth]\npasswd_file = \"users\"\n");
  Result<ServerConfig> r = load_config(path);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->auth.passwd_file, (dir_.path() / "etc" / "users").string());
  EXPECT_EQ(r->source_path, path);
}

TEST_F(LoadConfigTest, ErrorsNameTheFile) {
  std::string path = write("poplar.toml", "[limits]\nidle_timeout_s = 60\n");
  Result<ServerConfig> r = load_config(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), StartsWith(path + ":2: [limits] idle_timeout_s:"));
}

TEST_F(LoadConfigTest, MissingFileIsNotFound) {
  Result<ServerConfig> r = load_config((dir_.path() / "nope.toml").string());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("nope.toml"));
}

TEST_F(LoadConfigTest, HugeFileIsRefused) {
  std::string path = write("big.toml", std::string(2 << 20, '#'));
  Result<ServerConfig> r = load_config(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kLimit);
}

TEST_F(LoadConfigTest, DirectoryIsRefused) {
  Result<ServerConfig> r = load_config(dir_.path().string());
  EXPECT_FALSE(r.is_ok());
}

}  // namespace
}  // namespace poplar::config
