// Everything a ServerSession needs to know about its server and its connection, as plain data.
// Filled by server/ from the TOML config and the connection; the core never reads files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mime/mime_structure.h"

namespace poplar::pop3 {

// POP4 abilities (POP4.md "Discovery and compatibility"; docs/pop4.md): each one is listed in
// CAPA's "X-POP4" line and makes its commands valid only while it is on. server/ turns on
// what [pop4] enabled allows.
struct Pop4Abilities {
  bool folders = false;  // LFLD SFLD CFLD DFLD RENF MOVF COPY MOVE STOR (needs store::Folders)
  bool flags = false;    // FLGS FLAG
  bool parts = false;    // PART
};

struct SessionConfig {
  // Greeting, APOP timestamps (<...@hostname>), logs.
  std::string hostname = "localhost";
  // IMPLEMENTATION capability, shown only in TRANSACTION (RFC 2449 §6.9: hide it before login).
  std::string implementation = "Poplar";

  // APOP offered (timestamp in the greeting). Off by default: MD5 is weak (SPEC R1939-7-m).
  bool apop = false;
  // USER/PASS allowed on this connection now. server/ sets it: the connection is TLS, or
  // loopback, or [auth] plaintext_without_tls = true. When false, USER is not in CAPA and
  // USER/PASS get "-ERR [AUTH] ... use STLS".
  bool plaintext_allowed = true;

  // EXPIRE capability: nullopt = "NEVER", otherwise days (RFC 2449 §6.7).
  std::optional<uint32_t> expire_days;
  // LOGIN-DELAY capability in seconds, 0 = not announced (RFC 2449 §6.5). Enforcement happens
  // where the maildrop is opened (the driver reports kLoginDelay).
  uint32_t login_delay_s = 0;

  // RFC 2449 §4: at least 255 octets including CRLF.
  size_t max_command_line_octets = 255;
  // Unknown/invalid commands tolerated before the connection is closed (Dovecot: 3 before
  // login in pop3-login, 20 after). A bad-command flood costs nothing but must end.
  uint32_t max_bad_commands_before_login = 10;
  uint32_t max_bad_commands_after_login = 20;
  // Failed PASS/APOP attempts on one connection before it is closed ([auth] max_failures).
  uint32_t max_auth_failures = 3;

  // Dovecot's pop3_client_workarounds (SPEC PR-S-8), off by default.
  bool workaround_outlook_no_nuls = false;  // NUL in a message is sent as 0x80
  bool workaround_oe_ns_eoh = false;        // a message without a header/body separator gets one

  // RFC 6856 §2.1/§5: RETR and TOP of a message with UTF-8 header fields (RFC 6532) get
  // "-ERR [UTF8]" unless the session issued UTF8 ([pop3] utf8_headers = "refuse"). Off by
  // default: clients from before RFC 6856 could not read such mail at all.
  bool refuse_utf8_headers = false;

  // POP4 greeting marker "POP4 rev 0" ([pop4] banner).
  bool pop4_banner = false;
  // POP4 abilities; all off by default, so a SessionConfig{} is plain POP3.
  Pop4Abilities pop4;
  // PART: the most parts, nesting and Content-* field size a message may have for PART to
  // list it (mime::Limits; over them PART answers -ERR [SYS/PERM] and RETR still works). They
  // also bound the structure a session holds. No config keys yet: mime/'s defaults.
  mime::Limits part_limits;
  // STOR: the largest message a client may store, in octets as received (CRLF, un-stuffed);
  // over it STOR reads on to the terminator and answers -ERR [SYS/PERM] ([limits]
  // max_stor_octets).
  uint64_t max_stor_octets = 50 * 1024 * 1024;

  // STLS offered on this connection (a "starttls" listener with TLS configured) while TLS is
  // not yet active and the session is in AUTHORIZATION (RFC 2595 §4).
  bool starttls_available = false;
  // [auth] mechanisms, as configured; what CAPA/AUTH offer is derived per state by
  // sasl::advertised_mechanisms (plaintext ones only where plaintext is allowed).
  std::vector<std::string> sasl_mechanisms;
  // Lines of a SASL exchange (AUTH and its continuation lines) may be far longer than a
  // command: tokens of several KiB (RFC 2449 §4 lets a capability raise the limit).
  size_t max_auth_line_octets = 16 * 1024;
};

// What the driver learned from the TLS handshake: for logs (RFC 8314 asks to record TLS use)
// and for SCRAM-*-PLUS channel binding.
struct TlsInfo {
  std::string version;               // "TLSv1.3"
  std::string cipher;                // "TLS_AES_256_GCM_SHA384"
  std::string tls_exporter;          // RFC 9266, 32 octets
  std::string tls_server_end_point;  // RFC 5929 §4
};

}  // namespace poplar::pop3
