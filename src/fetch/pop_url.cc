// Parsing and printing of POP URLs (see pop_url.h for the grammar and the choices made).
#include "fetch/pop_url.h"

#include <arpa/inet.h>

#include <array>
#include <cstddef>

#include "base/strict_number.h"
#include "sasl/saslprep.h"

namespace poplar::fetch {
namespace {

Status bad(std::string message) { return Status::invalid_input("POP URL: " + message); }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 2384 §3: achar = uchar / "&" / "=" / "~"; uchar = unreserved / escape (RFC 1738 §5),
// unreserved = alpha / digit / safe ("$-_.+") / extra ("!*'(),"). "%" starts an escape.
bool is_achar(char c) {
  if (is_alpha(c) || is_digit(c)) {
    return true;
  }
  switch (c) {
    case '$':
    case '-':
    case '_':
    case '.':
    case '+':
    case '!':
    case '*':
    case '\'':
    case '(':
    case ')':
    case ',':
    case '&':
    case '=':
    case '~':
      return true;
    default:
      return false;
  }
}

int hex_value(char c) {
  if (is_digit(c)) {
    return c - '0';
  }
  c = ascii_lower(c);
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// Decodes an RFC 2384 "achar" string. `what` names the part in messages ("user name").
Result<std::string> percent_decode(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return bad(std::string(what) + " has a '%' not followed by two hex digits");
      }
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return bad(std::string(what) + " has a '%' not followed by two hex digits");
      }
      auto octet = static_cast<unsigned char>(hi * 16 + lo);
      // A control character would end up in a USER or AUTH command line (CR LF injection).
      if (octet < 0x20 || octet == 0x7f) {
        return bad(std::string(what) + " has an encoded control character (%" +
                   std::string(text.substr(i + 1, 2)) + ")");
      }
      out.push_back(static_cast<char>(octet));
      i += 2;
      continue;
    }
    if (!is_achar(c)) {
      if (c == '@') {
        return bad(std::string(what) + " has a literal '@': write it as %40");
      }
      return bad(std::string(what) + " has a character that must be %-encoded");
    }
    out.push_back(c);
  }
  if (!sasl::is_valid_utf8(out)) {
    return bad(std::string(what) + " is not UTF-8 after %-decoding");
  }
  return out;
}

// RFC 4422 §3.1: sasl-mech = 1*20mech-char; mech-char = UPPER-ALPHA / DIGIT / HYPHEN /
// UNDERSCORE. Lower case is accepted (auth-type values are case-insensitive, RFC 2384 §3).
bool is_sasl_name(std::string_view name) {
  if (name.empty() || name.size() > 20) {
    return false;
  }
  for (char c : name) {
    if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

Result<AuthChoice> parse_auth(std::string_view params) {
  // params is what follows the first ';' of the user part.
  constexpr std::string_view kAuth = "AUTH=";
  if (params.size() < kAuth.size() || !iequals(params.substr(0, kAuth.size()), kAuth)) {
    return bad("only ;AUTH=<type> may follow the user name");
  }
  std::string_view encoded = params.substr(kAuth.size());
  if (encoded.empty()) {
    return bad(";AUTH= needs a value: *, +APOP or a SASL mechanism name");
  }
  if (encoded.find(';') != std::string_view::npos) {
    return bad("only one ;AUTH= parameter is allowed");
  }
  AuthChoice choice;
  if (encoded == "*") {
    return choice;
  }
  auto decoded = percent_decode(encoded, "the ;AUTH= value");
  if (!decoded.is_ok()) {
    return decoded.status();
  }
  const std::string& type = *decoded;
  if (type.starts_with('+')) {
    if (iequals(type, "+APOP")) {
      choice.kind = AuthChoice::Kind::kApop;
      return choice;
    }
    return bad("the ;AUTH= value is an unknown '+' extension (only +APOP is known)");
  }
  if (!is_sasl_name(type)) {
    return bad(
        "the ;AUTH= value is not a SASL mechanism name (1-20 of A-Z, 0-9, '-', '_'), '*' or "
        "'+APOP'");
  }
  choice.kind = AuthChoice::Kind::kMechanism;
  for (char c : type) {
    choice.mechanism.push_back(ascii_upper(c));
  }
  return choice;
}

// RFC 1123 §2.1 host names: labels of letters, digits and hyphens, 1-63 octets, not starting
// or ending with a hyphen, 253 octets in all; or a dotted quad.
Status check_host_name(std::string_view host) {
  if (host.empty()) {
    return bad("no host name");
  }
  if (host.size() > 253) {
    return bad("the host name is longer than 253 characters");
  }
  bool all_numeric_last = false;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) {
      return bad("the host name has an empty label (two dots, or a dot at an end)");
    }
    if (label.size() > 63) {
      return bad("a label of the host name is longer than 63 characters");
    }
    bool numeric = true;
    for (char c : label) {
      auto u = static_cast<unsigned char>(c);
      if (u >= 0x80) {
        return bad(
            "the host name is not ASCII: give an internationalised name as its A-label "
            "(xn--...)");
      }
      if (c == '%') {
        return bad("the host name may not be %-encoded");
      }
      if (!is_alpha(c) && !is_digit(c) && c != '-') {
        return bad("the host name has a character other than letters, digits, '-' and '.'");
      }
      numeric = numeric && is_digit(c);
    }
    if (label.front() == '-' || label.back() == '-') {
      return bad("a label of the host name starts or ends with '-'");
    }
    if (dot == std::string_view::npos) {
      all_numeric_last = numeric;
      break;
    }
    start = dot + 1;
  }
  if (all_numeric_last) {
    // A name whose last label is numeric can only be an IPv4 address (RFC 1123 §2.1).
    std::array<unsigned char, 4> bytes{};
    if (::inet_pton(AF_INET, std::string(host).c_str(), bytes.data()) != 1) {
      return bad("the host looks like an IPv4 address but is not a valid dotted quad");
    }
  }
  return Status::ok();
}

Result<std::string> canonical_ipv6(std::string_view literal) {
  if (literal.find('%') != std::string_view::npos) {
    return bad(
        "IPv6 zone ids (%25...) are not supported; use a global or link address without "
        "a zone");
  }
  std::array<unsigned char, 16> bytes{};
  if (literal.empty() || literal.size() > 45 ||
      ::inet_pton(AF_INET6, std::string(literal).c_str(), bytes.data()) != 1) {
    return bad("the text between '[' and ']' is not an IPv6 address");
  }
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (::inet_ntop(AF_INET6, bytes.data(), text.data(), text.size()) == nullptr) {
    return bad("the IPv6 address cannot be printed");
  }
  return std::string(text.data());
}

Status parse_host_port(std::string_view hostport, PopUrl& url) {
  std::string_view port_text;
  bool has_port = false;
  if (hostport.starts_with('[')) {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return bad("an IPv6 literal has no closing ']'");
    }
    auto host = canonical_ipv6(hostport.substr(1, close - 1));
    if (!host.is_ok()) {
      return host.status();
    }
    url.host = *host;
    url.host_is_ipv6 = true;
    std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return bad("only ':port' may follow an IPv6 literal");
      }
      has_port = true;
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = hostport.find(':');
    if (colon != std::string_view::npos &&
        hostport.find(':', colon + 1) != std::string_view::npos) {
      return bad("an IPv6 address must be written in brackets, like [::1]");
    }
    std::string_view host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = hostport.substr(colon + 1);
    }
    if (host.find(']') != std::string_view::npos) {
      return bad("a ']' without a '[' in the host");
    }
    Status status = check_host_name(host);
    if (!status.is_ok()) {
      return status;
    }
    url.host.clear();
    for (char c : host) {
      url.host.push_back(ascii_lower(c));
    }
  }
  if (has_port) {
    // At most 5 digits, so "0000000110" is refused rather than read.
    auto port = port_text.size() <= 5 ? parse_u32(port_text) : std::nullopt;
    if (!port.has_value()) {
      return bad("the port is not a number");
    }
    if (*port < 1 || *port > 65535) {
      return bad("the port must be between 1 and 65535");
    }
    url.port = static_cast<uint16_t>(*port);
  }
  return Status::ok();
}

Status parse_user_part(std::string_view userinfo, PopUrl& url) {
  size_t semicolon = userinfo.find(';');
  std::string_view user = userinfo.substr(0, semicolon);
  // Checked before anything else so that no other message can quote the password.
  if (user.find(':') != std::string_view::npos) {
    return bad(
        "a password in the URL is refused (it would show in process lists and logs); "
        "give it with --password-file or POPLAR_PASSWORD");
  }
  if (semicolon == std::string_view::npos) {
    if (user.empty()) {
      return bad(
          "an empty user name before '@' (leave out the '@' to take the user name from "
          "the configuration)");
    }
  } else {
    auto auth = parse_auth(userinfo.substr(semicolon + 1));
    if (!auth.is_ok()) {
      return auth.status();
    }
    url.auth = std::move(*auth);
  }
  if (!user.empty()) {
    auto decoded = percent_decode(user, "the user name");
    if (!decoded.is_ok()) {
      return decoded.status();
    }
    url.user = std::move(*decoded);
  }
  return Status::ok();
}

// Octets written unencoded in the canonical user part: achars, except the escape character.
std::string percent_encode_user(std::string_view text) { return percent_encode(text, is_achar); }

}  // namespace

std::string percent_encode(std::string_view text, bool (*keep)(char)) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (keep(c)) {
      out.push_back(c);
    } else {
      auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

Result<PopUrl> parse_pop_url(std::string_view text) {
  if (text.size() > kMaxPopUrlLength) {
    return bad("longer than " + std::to_string(kMaxPopUrlLength) + " characters");
  }
  PopUrl url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return bad("does not start with pop:// or pops://");
  }
  std::string_view scheme = text.substr(0, sep);
  if (iequals(scheme, "pop") || iequals(scheme, "pop3")) {
    url.tls = PopUrl::TlsMode::kStartTls;
    url.port = kPopPort;
  } else if (iequals(scheme, "pops") || iequals(scheme, "pop3s")) {
    url.tls = PopUrl::TlsMode::kImplicit;
    url.port = kPopsPort;
  } else {
    return bad("the scheme must be pop://, pops://, pop3:// or pop3s://");
  }
  std::string_view rest = text.substr(sep + 3);
  // RFC 2384 §3: a POP URL names a maildrop; it has no path, query or fragment.
  size_t end = rest.find_first_of("/?#");
  if (end != std::string_view::npos) {
    if (rest[end] != '/' || end + 1 != rest.size()) {
      return bad("nothing may follow the host and port but a single '/'");
    }
  }
  std::string_view authority = rest.substr(0, end);
  // '@' never appears unencoded in the user part or the host, so the last one ends the user
  // part; an earlier one is reported by the user-part check.
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    Status status = parse_user_part(authority.substr(0, at), url);
    if (!status.is_ok()) {
      return status;
    }
    authority = authority.substr(at + 1);
  }
  Status status = parse_host_port(authority, url);
  if (!status.is_ok()) {
    return status;
  }
  return url;
}

std::string to_string(const PopUrl& url) {
  bool implicit = url.tls == PopUrl::TlsMode::kImplicit;
  std::string out = implicit ? "pops://" : "pop://";
  bool has_auth = url.auth.kind != AuthChoice::Kind::kAny;
  if (!url.user.empty() || has_auth) {
    out += percent_encode_user(url.user);
    if (url.auth.kind == AuthChoice::Kind::kApop) {
      out += ";AUTH=+APOP";
    } else if (url.auth.kind == AuthChoice::Kind::kMechanism) {
      out += ";AUTH=" + url.auth.mechanism;
    }
    out += '@';
  }
  if (url.host_is_ipv6) {
    out += '[' + url.host + ']';
  } else {
    out += url.host;
  }
  if (url.port != (implicit ? kPopsPort : kPopPort)) {
    out += ':' + std::to_string(url.port);
  }
  return out;
}

}  // namespace poplar::fetch
