// PopUrl: an account's server address as a POP URL (RFC 2384 §3), plus the `pops://` scheme for
// implicit TLS that Poplar defines beyond the RFC (SPEC R2384-x-a), parsed into fields and
// written back in one canonical form. The canonical form keys the fetch state file
// (fetch/fetch_state.h) and names the account in messages.
//
//   pop://[user[;AUTH=type]@]host[:port][/]     (pop3:// is accepted as an alias)
//   pops://[user[;AUTH=type]@]host[:port][/]    (pop3s:// is accepted as an alias)
//
// Choices (documented in docs/fetch.md when it exists):
//  - An absent ;AUTH and ;AUTH=* both mean "the best mechanism the server offers" (kAny); RFC
//    2384 §3 reads an absent ;AUTH as USER/PASS-or-better, and Poplar always picks the best
//    anyway, falling back to USER/PASS only under TLS or when the user allows plaintext.
//  - ;AUTH=+APOP means APOP only; any other "+" extension is refused; anything else must be a
//    SASL mechanism name (RFC 4422 §3.1: 1-20 of A-Z 0-9 - _), compared case-insensitively and
//    kept upper-cased.
//  - The user may be empty before ";AUTH=" (the user name then comes from the configuration);
//    "pop://@host" is refused.
//  - A password in the URL ("user:pass@") is refused; the error never repeats it.
//  - Hosts: DNS names (ASCII letters, digits and hyphens; IDNs must be given as A-labels),
//    dotted-quad IPv4, and [IPv6] literals without zone ids. Host names are lower-cased and IPv6
//    literals written in their RFC 5952 form, so one server has one canonical URL.
//  - Percent-decoding refuses %00 and every other control character (a CR LF in a user name
//    would inject a POP3 command), bad hex, and results that are not UTF-8.
//
// Must never: crash, assert or allocate without bound on any input; quote a password.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace poplar::fetch {

// What ;AUTH= asked for.
struct AuthChoice {
  enum class Kind {
    kAny,        // absent or "*": the most secure mechanism the server offers
    kApop,       // "+APOP" (RFC 1939 §7)
    kMechanism,  // exactly this SASL mechanism, or fail
  };
  Kind kind = Kind::kAny;
  std::string mechanism;  // upper-cased; only for kMechanism

  bool operator==(const AuthChoice&) const = default;
};

struct PopUrl {
  enum class TlsMode {
    kImplicit,  // pops://: TLS from the first byte (RFC 8314), default port 995
    kStartTls,  // pop://: STLS (RFC 2595) unless the caller later allows plaintext; port 110
  };
  TlsMode tls = TlsMode::kStartTls;
  std::string user;  // decoded; empty: must come from elsewhere
  AuthChoice auth;
  std::string host;  // without brackets; lower case
  uint16_t port = 110;
  bool host_is_ipv6 = false;

  bool operator==(const PopUrl&) const = default;
};

// RFC 1939 §4 / RFC 2384 §3 default ports.
inline constexpr uint16_t kPopPort = 110;
inline constexpr uint16_t kPopsPort = 995;
// Longer URLs are refused before parsing: no real account needs more, and state-file names are
// derived from them.
inline constexpr size_t kMaxPopUrlLength = 1024;

// Parses a POP URL. Errors: kInvalidInput, with a message that says what is wrong and never
// contains the user's password or the URL's user part.
Result<PopUrl> parse_pop_url(std::string_view text);

// %XX (upper-case hex) for every octet `keep` refuses; the rest as it is.
std::string percent_encode(std::string_view text, bool (*keep)(char));

// The canonical URL: scheme pop or pops, the user %-encoded (every octet that is not an RFC
// 2384 "achar" other than "%"), ";AUTH=" only when not kAny, the port only when not the
// scheme's default, no trailing "/". parse_pop_url(to_string(u)) == u for every parsed u.
std::string to_string(const PopUrl& url);

}  // namespace poplar::fetch
