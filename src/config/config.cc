// TOML → ServerConfig (DESIGN §5). toml++ is used only in this file: it throws, and its types
// and exceptions must not leak out of config/. Everything the file says is checked here, once,
// so the rest of the server can trust a ServerConfig without re-validating it.
//
// Every problem is reported as "NAME:LINE: [section] key: what is wrong", and all problems of a
// file are reported together (sorted by line), the way a compiler does, so an admin fixes a file
// in one round instead of one error per restart.
//
// Thread-safety: no shared state; safe from any thread.
#include "config/config.h"
#include "config/toml_reader.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <limits>
#include <span>

#include "base/ascii.h"
#include "base/strict_number.h"
#include "config/mail_location.h"

namespace poplar::config {
namespace {

// A config file is a few KB. Refusing anything larger keeps "-c /dev/zero" or a log file given
// by mistake from eating memory before the parser complains.
constexpr size_t kMaxConfigBytes = size_t{1} << 20;

// RFC 1035 §2.3.4: a name is at most 255 octets on the wire, i.e. 253 characters as text.
constexpr size_t kMaxHostnameChars = 253;
constexpr size_t kMaxLabelChars = 63;

constexpr std::string_view kTopKeys[] = {"hostname", "user", "group", "listen", "tls",
                                         "auth",     "pop3", "mail",  "limits", "pop4"};
constexpr std::string_view kListenKeys[] = {"address", "tls"};
constexpr std::string_view kTlsKeys[] = {"certificate", "private_key"};
constexpr std::string_view kAuthKeys[] = {
    "passwd_file",           "mechanisms",      "apop",
    "plaintext_without_tls", "failure_delay_s", "max_failures"};
constexpr std::string_view kPop3Keys[] = {"expire", "login_delay_s", "client_workarounds",
                                          "utf8_headers"};
constexpr std::string_view kMailKeys[] = {"location"};
constexpr std::string_view kLimitsKeys[] = {"idle_timeout_s",   "login_timeout_s",
                                            "max_connections",  "max_connections_per_ip",
                                            "max_bad_commands", "max_stor_octets"};
constexpr std::string_view kPop4Keys[] = {"enabled", "banner"};

// SASL mechanisms Poplar knows (src/sasl/ lands later; the names are checked now so that a typo
// does not wait for that release to be noticed).
constexpr std::string_view kKnownMechanisms[] = {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1",
                                                 "SCRAM-SHA-256"};
// Dovecot's pop3_client_workarounds, with the same names so migrating configs read the same.
constexpr std::string_view kKnownWorkarounds[] = {"outlook-no-nuls", "oe-ns-eoh"};

// A DNS name as RFC 1123 §2.1 allows it, plus '_' (seen in real host names). Used for the
// hostname key, which appears in the greeting and inside APOP's "<...@host>" timestamp, and for
// the host part of listen addresses.
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostnameChars) {
    return false;
  }
  size_t label = 0;
  char prev = '.';
  for (char c : name) {
    if (c == '.') {
      if (label == 0 || prev == '-') {
        return false;
      }
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || (c == '-' && label > 0)) {
      if (++label > kMaxLabelChars) {
        return false;
      }
    } else {
      return false;
    }
    prev = c;
  }
  return prev != '-';
}

std::string system_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || !is_dns_name(buf)) {
    // Only the greeting and APOP timestamps use it; a safe fallback beats refusing to start.
    return "localhost";
  }
  return buf;
}

// The server config's sections; the generic reading and problem collection is TomlReader's.
class Parser : public TomlReader {
 public:
  using TomlReader::TomlReader;

  Status run(const toml::table& root, ServerConfig& config) {
    check_keys(root, "", kTopKeys);
    parse_top(root, config);
    parse_listen(root, config);
    if (const toml::table* t = section(root, "tls")) {
      parse_tls(*t, config);
    }
    if (const toml::table* t = section(root, "auth")) {
      parse_auth(*t, config.auth);
    }
    if (const toml::table* t = section(root, "pop3")) {
      parse_pop3(*t, config.pop3);
    }
    if (const toml::table* t = section(root, "mail")) {
      parse_mail(*t, config.mail);
    } else {
      // The default template has no relative path, but normalise it like a configured one.
      config.mail.location =
          validate_mail_location(config.mail.location, base_dir().string()).value();
    }
    if (const toml::table* t = section(root, "limits")) {
      parse_limits(*t, config.limits);
    }
    if (const toml::table* t = section(root, "pop4")) {
      parse_pop4(*t, config.pop4);
    }
    return result();
  }

 private:
  // The [name] table, or nullptr when absent or of the wrong type (reported).
  const toml::table* section(const toml::table& root, std::string_view name) {
    const toml::node* node = root.get(name);
    if (node == nullptr) {
      return nullptr;
    }
    const toml::table* table = node->as_table();
    if (table == nullptr) {
      wrong_type(*node, "", name, "a table ([" + std::string(name) + "])");
      return nullptr;
    }
    std::string sect = "[" + std::string(name) + "]";
    if (name == "tls") {
      check_keys(*table, sect, kTlsKeys);
    } else if (name == "auth") {
      check_keys(*table, sect, kAuthKeys);
    } else if (name == "pop3") {
      check_keys(*table, sect, kPop3Keys);
    } else if (name == "mail") {
      check_keys(*table, sect, kMailKeys);
    } else if (name == "limits") {
      check_keys(*table, sect, kLimitsKeys);
    } else if (name == "pop4") {
      check_keys(*table, sect, kPop4Keys);
    }
    return table;
  }

  void parse_top(const toml::table& root, ServerConfig& config) {
    if (const toml::node* node = read_string(root, "", "hostname", config.hostname)) {
      if (!is_dns_name(config.hostname)) {
        add(*node, "", "hostname",
            "must be a DNS name (letters, digits, '-', '.'; at most 253 characters): it appears "
            "in the greeting and in APOP timestamps");
      }
    } else {
      config.hostname = system_hostname();
    }
    const toml::node* user = read_string(root, "", "user", config.user);
    // user and group are plain names; a uid/gid is looked up at startup (server/privileges).
    if (user != nullptr && config.user.empty()) {
      add(*user, "", "user", "must not be empty (leave the key out to keep the current user)");
    }
    const toml::node* group = read_string(root, "", "group", config.group);
    if (group != nullptr) {
      if (config.group.empty()) {
        add(*group, "", "group", "must not be empty (leave the key out for the user's group)");
      } else if (root.get("user") == nullptr) {
        add(*group, "", "group", "is set but user is not (the group is applied with the user)");
      }
    }
  }

  void parse_listen(const toml::table& root, ServerConfig& config) {
    const toml::node* node = root.get("listen");
    if (node == nullptr) {
      return;  // the default: one plain listener on 0.0.0.0:110
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      wrong_type(*node, "", "listen", "an array of tables (write [[listen]])");
      return;
    }
    if (array->empty()) {
      add(*node, "", "listen", "at least one [[listen]] is needed");
      return;
    }
    std::vector<ListenConfig> listeners;
    for (const toml::node& element : *array) {
      const toml::table* table = element.as_table();
      if (table == nullptr) {
        wrong_type(element, "", "listen", "an array of tables (write [[listen]])");
        continue;
      }
      check_keys(*table, "[[listen]]", kListenKeys);
      ListenConfig listener;
      const toml::node* address = read_string(*table, "[[listen]]", "address", listener.address);
      if (address == nullptr) {
        if (table->get("address") == nullptr) {
          add(table->source(),
              "[[listen]] address: missing (every listener needs a host:port, e.g. "
              "\"0.0.0.0:110\")");
        }
        continue;
      }
      Result<ListenAddress> parsed = parse_listen_address(listener.address);
      if (!parsed.is_ok()) {
        add(*address, "[[listen]]", "address",
            quote(listener.address) + ": " + parsed.status().message());
        continue;
      }
      // The same host:port twice cannot both be bound; port 0 ("any free port") can.
      for (const ListenConfig& earlier : listeners) {
        Result<ListenAddress> e = parse_listen_address(earlier.address);
        if (parsed->port != 0 && e->host == parsed->host && e->port == parsed->port) {
          add(*address, "[[listen]]", "address", quote(listener.address) + " is listed twice");
        }
      }
      std::string tls = "none";
      if (const toml::node* tls_node = read_string(*table, "[[listen]]", "tls", tls)) {
        if (tls == "none") {
          listener.tls = TlsMode::kNone;
        } else if (tls == "starttls") {
          listener.tls = TlsMode::kStartTls;
        } else if (tls == "implicit") {
          listener.tls = TlsMode::kImplicit;
        } else {
          add(*tls_node, "[[listen]]", "tls",
              "unknown value " + quote(tls) + " (known: \"none\", \"starttls\", \"implicit\")");
          continue;
        }
      }
      listeners.push_back(std::move(listener));
    }
    config.listen = std::move(listeners);
  }

  void parse_tls(const toml::table& t, ServerConfig& config) {
    TlsConfig tls;
    for (std::string_view key : kTlsKeys) {
      if (t.get(key) == nullptr) {
        add(t.source(), "[tls] " + std::string(key) + ": missing (a PEM file)");
      }
    }
    read_path(t, "[tls]", "certificate", tls.certificate);
    read_path(t, "[tls]", "private_key", tls.private_key);
    config.tls = std::move(tls);
  }

  void parse_auth(const toml::table& t, AuthConfig& auth) {
    read_path(t, "[auth]", "passwd_file", auth.passwd_file);
    read_word_list(t, "[auth]", "mechanisms", kKnownMechanisms, /*fold_case=*/true,
                   auth.mechanisms);
    read_bool(t, "[auth]", "apop", auth.apop);
    read_bool(t, "[auth]", "plaintext_without_tls", auth.plaintext_without_tls);
    read_u32(t, "[auth]", "failure_delay_s", 0, "", auth.failure_delay_s);
    read_u32(t, "[auth]", "max_failures", 1, "0 would close every connection before a login",
             auth.max_failures);
  }

  void parse_pop3(const toml::table& t, Pop3Config& pop3) {
    if (const toml::node* node = t.get("expire")) {
      parse_expire(*node, pop3);
    }
    read_u32(t, "[pop3]", "login_delay_s", 0, "", pop3.login_delay_s);
    read_word_list(t, "[pop3]", "client_workarounds", kKnownWorkarounds, /*fold_case=*/false,
                   pop3.client_workarounds);
    std::string utf8_headers;
    if (const toml::node* node = read_string(t, "[pop3]", "utf8_headers", utf8_headers)) {
      if (utf8_headers == "refuse") {
        pop3.refuse_utf8_headers = true;
      } else if (utf8_headers != "send") {
        add(*node, "[pop3]", "utf8_headers",
            quote(utf8_headers) + ": must be \"send\" or \"refuse\"");
      }
    }
  }

  // RFC 2449 §6.7 EXPIRE: "NEVER" or a number of days. The file may say "never", 30 or "30".
  void parse_expire(const toml::node& node, Pop3Config& pop3) {
    constexpr std::string_view kWanted = "\"never\" or a number of days (0 or more)";
    if (const toml::value<int64_t>* value = node.as_integer()) {
      int64_t v = value->get();
      if (v < 0 || v > static_cast<int64_t>(std::numeric_limits<uint32_t>::max())) {
        add(node, "[pop3]", "expire", "must be " + std::string(kWanted));
        return;
      }
      pop3.expire_days = static_cast<uint32_t>(v);
      return;
    }
    const toml::value<std::string>* text = node.as_string();
    if (text == nullptr) {
      wrong_type(node, "[pop3]", "expire", kWanted);
      return;
    }
    if (ascii_upper(text->get()) == "NEVER") {
      pop3.expire_days = std::nullopt;
    } else if (std::optional<uint32_t> days = parse_u32(text->get())) {
      pop3.expire_days = *days;
    } else {
      add(node, "[pop3]", "expire", quote(text->get()) + ": must be " + std::string(kWanted));
    }
  }

  void parse_mail(const toml::table& t, MailConfig& mail) {
    std::string location = mail.location;
    const toml::node* node = read_string(t, "[mail]", "location", location);
    if (node == nullptr && t.get("location") != nullptr) {
      return;  // wrong type, reported
    }
    Result<std::string> checked = validate_mail_location(location, base_dir().string());
    if (!checked.is_ok()) {
      if (node != nullptr) {
        add(*node, "[mail]", "location", quote(location) + ": " + checked.status().message());
      }
      return;
    }
    mail.location = std::move(checked).value();
  }

  void parse_limits(const toml::table& t, LimitsConfig& limits) {
    read_u32(t, "[limits]", "idle_timeout_s", kMinIdleTimeoutS, "RFC 1939 autologout minimum",
             limits.idle_timeout_s);
    read_u32(t, "[limits]", "login_timeout_s", 1, "0 would drop every client at once",
             limits.login_timeout_s);
    read_u32(t, "[limits]", "max_connections", 1, "0 would refuse every client",
             limits.max_connections);
    read_u32(t, "[limits]", "max_connections_per_ip", 1, "0 would refuse every client",
             limits.max_connections_per_ip);
    read_u32(t, "[limits]", "max_bad_commands", 1, "0 would drop a client at its first typo",
             limits.max_bad_commands);
    read_u32(t, "[limits]", "max_stor_octets", 1, "0 would refuse every STOR",
             limits.max_stor_octets);
  }

  void parse_pop4(const toml::table& t, Pop4Config& pop4) {
    read_bool(t, "[pop4]", "enabled", pop4.enabled);
    read_bool(t, "[pop4]", "banner", pop4.banner);
  }
};

}  // namespace

std::string_view tls_mode_name(TlsMode mode) {
  switch (mode) {
    case TlsMode::kNone:
      return "none";
    case TlsMode::kStartTls:
      return "starttls";
    case TlsMode::kImplicit:
      return "implicit";
  }
  return "none";
}

Result<ListenAddress> parse_listen_address(std::string_view address) {
  if (address.empty()) {
    return Status::invalid_input("empty (expected host:port, e.g. \"0.0.0.0:110\")");
  }
  std::string_view host;
  std::string_view port;
  if (address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos) {
      return Status::invalid_input("missing ']' after the IPv6 address");
    }
    host = address.substr(1, close - 1);
    std::string_view rest = address.substr(close + 1);
    if (!rest.starts_with(':')) {
      return Status::invalid_input("missing \":port\" after ']'");
    }
    port = rest.substr(1);
    in6_addr unused{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &unused) != 1) {
      return Status::invalid_input("invalid IPv6 address inside [...]");
    }
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::invalid_input("missing \":port\" (expected host:port, e.g. \"0.0.0.0:110\")");
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Status::invalid_input("an IPv6 address must be in brackets, e.g. \"[::]:110\"");
    }
    if (host.empty()) {
      return Status::invalid_input("missing host (use \"0.0.0.0\" or \"[::]\" for all addresses)");
    }
    bool numeric = host.find_first_not_of("0123456789.") == std::string_view::npos;
    in_addr unused{};
    if (numeric) {
      if (inet_pton(AF_INET, std::string(host).c_str(), &unused) != 1) {
        return Status::invalid_input("invalid IPv4 address");
      }
    } else if (!is_dns_name(host)) {
      return Status::invalid_input("host is neither an IP address nor a DNS name");
    }
  }
  std::optional<uint32_t> number = parse_u32(port);
  if (!number.has_value() || *number > 65535) {
    return Status::invalid_input("port must be a number from 0 to 65535");
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(*number)};
}

Status check_supported(const ServerConfig& config) {
  for (const ListenConfig& listener : config.listen) {
    if (listener.tls != TlsMode::kNone && !config.tls.has_value()) {
      std::string where = config.source_path.empty() ? "" : config.source_path + ": ";
      return Status::invalid_input(
          where + "[[listen]] address " + quote(listener.address) + ": tls = \"" +
          std::string(tls_mode_name(listener.tls)) +
          "\" needs a [tls] table with certificate and private_key (PEM files)");
    }
  }
  return Status::ok();
}

Result<ServerConfig> parse_config(std::string_view toml_text, const std::string& name,
                                  const std::string& base_dir) {
  toml::table root;
  if (Status s = parse_toml(toml_text, name, root); !s.is_ok()) {
    return s;
  }
  ServerConfig config;
  config.source_path = name;
  Parser parser(name, absolute_dir(base_dir));
  Status s = parser.run(root, config);
  if (!s.is_ok()) {
    return s;
  }
  return config;
}

Result<ServerConfig> load_config(const std::string& path) {
  Result<std::string> text = read_small_file(path, kMaxConfigBytes, "config file");
  if (!text.is_ok()) {
    return text.status();
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  return parse_config(*text, path, dir.empty() ? std::string() : dir.string());
}

}  // namespace poplar::config
