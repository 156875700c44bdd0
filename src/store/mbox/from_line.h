// The "From " separator line of an mbox (RFC 4155 §2, the mboxrd variant):
//   From <envelope sender> <asctime date in UTC>\n
// e.g. "From alice@example.org Fri Nov 27 12:00:00 2026\n", and where the sender comes from when
// the caller does not know it: the Return-Path header field of the message (added by the last
// MTA), else MAILER-DAEMON (what mutt and Dovecot write for an unknown sender).
//
// Must never: produce a line that a reader would split differently (the sender never holds a
// space or a control character), or trust the message's header (it is untrusted input).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace poplar::store::mbox {

// The sender written when none is known, or when the known one cannot be written safely.
inline constexpr std::string_view kUnknownSender = "MAILER-DAEMON";

// Longest sender kept: RFC 5321 §4.5.3.1 limits a path to 256 octets.
inline constexpr size_t kMaxSenderOctets = 256;

// True when sender can go into a From_ line as is: 1-256 octets of 0x21-0x7E.
bool is_writable_sender(std::string_view sender);

// The From_ line for sender (already checked with is_writable_sender) at unix_seconds, with
// its LF. Dates before 1970 or after 9999 are written as 1970 and 9999.
std::string from_line(std::string_view sender, int64_t unix_seconds);

// The envelope sender named by the first Return-Path field of a message's header block (LF
// line ends; the text may stop anywhere, e.g. at a size cap). Folded lines are unfolded, the
// address is taken from between '<' and '>' when present. Returns kUnknownSender when there is
// no Return-Path, it is the null path "<>", or the address is not writable.
std::string sender_from_header(std::string_view header_block);

}  // namespace poplar::store::mbox
