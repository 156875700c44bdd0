// Builders for what the server writes: status lines (+OK / -ERR, RFC 1939 §3), RFC 2449 §8
// response codes, and multi-line framing (data lines byte-stuffed, "." terminator).
// Rules enforced here so no handler can get them wrong:
//   - "+OK" / "-ERR" are always followed by a SP and some text (RFC 1957, SPEC PR-S-1);
//   - a status line is at most 512 octets including CRLF; longer text is truncated
//     (RFC 2449 §4);
//   - human text never starts with "[" unless it is a response code (RFC 2449 §6.4: once
//     RESP-CODES is announced, "[" after the status introduces a code);
//   - no CR, LF or other control byte inside a line.
// Appends to a caller-owned buffer; no I/O.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace poplar::pop3 {

// RFC 1939 §3, RFC 2449 §4: the first line of a response, CRLF included.
inline constexpr size_t kMaxResponseLineOctets = 512;

// Extended response codes (RFC 2449 §8, RFC 3206).
enum class ResponseCode {
  kNone,
  kInUse,       // [IN-USE]: credentials fine, maildrop locked by another session
  kLoginDelay,  // [LOGIN-DELAY]: logged in too recently
  kAuth,        // [AUTH]: credentials or authentication policy (RFC 3206 §5)
  kSysTemp,     // [SYS/TEMP]: temporary system problem (RFC 3206 §4)
  kSysPerm,     // [SYS/PERM]: permanent system problem (RFC 3206 §4)
  kUtf8,        // [UTF8]: the message needs UTF-8 mode (RFC 6856 §5)
};

// "IN-USE", "SYS/TEMP", ...; empty for kNone.
std::string_view response_code_name(ResponseCode code);

// "+OK <text>\r\n".
void append_ok(std::string& out, std::string_view text);
// "-ERR [<code>] <text>\r\n", or "-ERR <text>\r\n" for kNone.
void append_err(std::string& out, std::string_view text, ResponseCode code = ResponseCode::kNone);

// One line of a multi-line response that the server itself generates (scan listings, UIDL
// lines, capabilities): byte-stuffed if it starts with "." (RFC 1939 §3), control bytes
// replaced, truncated to 512 octets, CRLF appended.
void append_data_line(std::string& out, std::string_view line);
// The multi-line terminator ".\r\n" (RFC 1939 §3).
void append_terminator(std::string& out);

}  // namespace poplar::pop3
