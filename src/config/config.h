// The server's configuration (DESIGN §5): TOML, `poplar serve -c FILE`. Every key has a
// default; unknown keys and bad values are errors naming the key and the line. Relative paths
// are resolved against the directory of the config file. docs/configuration.md lists every key.
//
// load_config() may throw nothing: errors come back as a Status (kInvalidInput) whose message
// reads like "poplar.toml:12: [limits] idle_timeout_s: must be at least 600". When a file has
// several problems, all are reported, one per line, sorted by line number.
//
// toml++ is confined to config.cc: no toml++ type or exception crosses this header.
//
// Thread-safety: plain value types and stateless functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/mail_location.h"  // MailUser, expand_mail_location(): part of this interface

namespace poplar::config {

enum class TlsMode { kNone, kStartTls, kImplicit };

// "none", "starttls", "implicit": the spelling used in the TOML file.
std::string_view tls_mode_name(TlsMode mode);

struct ListenConfig {
  std::string address = "0.0.0.0:110";  // host:port, "[::]:110" for IPv6; port 0 = any free port
  TlsMode tls = TlsMode::kNone;
};

struct TlsConfig {
  std::string certificate;  // PEM chain (absolute after loading)
  std::string private_key;
};

struct AuthConfig {
  std::string passwd_file = "/etc/poplar/users";
  std::vector<std::string> mechanisms = {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"};
  bool apop = false;
  bool plaintext_without_tls = false;
  uint32_t failure_delay_s = 2;
  uint32_t max_failures = 3;
};

struct Pop3Config {
  std::optional<uint32_t> expire_days;  // nullopt = "never"
  uint32_t login_delay_s = 0;
  // Dovecot's pop3_client_workarounds: "outlook-no-nuls", "oe-ns-eoh".
  std::vector<std::string> client_workarounds;
  // RFC 6856 §2.1: "send" (default) or "refuse" RETR/TOP of messages with UTF-8 header fields
  // with -ERR [UTF8] until the client issues UTF8.
  bool refuse_utf8_headers = false;
};

struct MailConfig {
  // "maildir:PATH" with %u (user), %n (local part), %d (domain), %h (home from passwd-file).
  std::string location = "maildir:%h/Maildir";
};

// RFC 1939 §3: "such a timer MUST be of at least 10 minutes' duration". A shorter idle timeout
// would disconnect clients that are entitled to think before their next command.
inline constexpr uint32_t kMinIdleTimeoutS = 600;

struct LimitsConfig {
  uint32_t idle_timeout_s = 600;  // after login; RFC 1939 §3: at least 10 minutes
  uint32_t login_timeout_s = 60;  // before login (Dovecot's login processes are similar)
  uint32_t max_connections = 10000;
  uint32_t max_connections_per_ip = 50;
  uint32_t max_bad_commands = 20;
  // POP4 STOR: the largest message a client may store (octets as sent, un-stuffed).
  uint32_t max_stor_octets = 50 * 1024 * 1024;
};

struct Pop4Config {
  bool enabled = true;
  bool banner = false;
};

struct ServerConfig {
  std::string hostname;  // default: gethostname()
  std::string user;      // drop to this user after binding, when started as root
  std::string group;
  std::vector<ListenConfig> listen = {ListenConfig{}};
  std::optional<TlsConfig> tls;
  AuthConfig auth;
  Pop3Config pop3;
  MailConfig mail;
  LimitsConfig limits;
  Pop4Config pop4;
  std::string source_path;  // the file this was loaded from, for messages
};

// Parses TOML text; base_dir resolves relative paths (empty: the current directory); name is
// used in error messages and stored in source_path. Uses gethostname() when hostname is absent.
// Error codes: kInvalidInput (syntax, unknown key, wrong type or value; names key and line).
Result<ServerConfig> parse_config(std::string_view toml_text, const std::string& name,
                                  const std::string& base_dir);
// Reads and parses a file; relative paths in it are resolved against the file's directory.
// Error codes: those of parse_config, plus kNotFound/kPermission/kTemporary (cannot read) and
// kLimit (file larger than 1 MiB).
Result<ServerConfig> load_config(const std::string& path);

// A listen address split into its parts. host has no brackets ("::1", "0.0.0.0", "localhost").
struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};
// Parses "host:port": an IPv4 literal, a bracketed IPv6 literal ("[::]:110") or a DNS name,
// and a decimal port 0..65535 (0 = any free port). parse_config validates every [[listen]]
// address with this, so the server can call it on a loaded config without failing.
// Error codes: kInvalidInput, with a message that does not repeat the address.
Result<ListenAddress> parse_listen_address(std::string_view address);

// Refuses what parse_config accepts but the server cannot run: a listener with
// tls = "starttls" or "implicit" when the file has no [tls] table (the parser accepts it so
// that the message can name what is missing). The server calls this once at startup, before
// binding. Error codes: kInvalidInput.
Status check_supported(const ServerConfig& config);

}  // namespace poplar::config
