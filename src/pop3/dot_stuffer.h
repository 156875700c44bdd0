// DotStuffer: turns a message as stored (LF or CRLF line ends, no stuffing) into its RETR/TOP
// wire form, streaming over chunks of any size:
//   - a bare LF becomes CRLF; an existing CRLF is kept; a bare CR is not a line end and
//     passes through unchanged;
//   - a line that starts with "." gets another "." in front (RFC 1939 §3);
//   - a message that does not end with a line end gets a CRLF (RFC 1939 §11, SPEC R1939-11-b);
//   - finish() appends the terminator ".\r\n".
// So the un-stuffed wire length equals the store's size rule (store/maildrop.h): every line end
// counts 2, a bare CR counts 1, +2 when a non-empty message does not end with LF; an empty
// message is 0 octets.
//
// TOP mode (RFC 1939 §7): the header, the blank line, then at most n body lines. A message
// without a blank line is all header and is sent whole.
// Dovecot's client workarounds (SPEC PR-S-8), off unless asked for:
//   outlook-no-nuls: NUL octets are sent as 0x80;
//   oe-ns-eoh: a message without a header/body separator gets a CRLF before the terminator
//     (this makes the reply 2 octets longer than LIST said, as in Dovecot).
//
// Scans with memchr and copies whole runs between line ends into a per-thread scratch area,
// then appends that to the output in one piece. Never buffers the message: state between
// chunks is a few flags.
// No I/O. Thread-safety: not thread-safe; one per reply.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace poplar::pop3 {

struct DotStufferOptions {
  std::optional<uint32_t> top_body_lines;  // TOP n; nullopt = RETR (the whole message)
  bool nul_to_0x80 = false;                // outlook-no-nuls
  bool add_missing_separator = false;      // oe-ns-eoh
};

class DotStuffer {
 public:
  explicit DotStuffer(DotStufferOptions options = {});

  // Appends the wire form of the next stored octets to `out`. Once done() is true, further
  // input is ignored (TOP has sent what it needs).
  void feed(std::string_view stored, std::string& out);
  // Appends the end of the reply: CRLF when the last line lacks a line end, the oe-ns-eoh
  // separator when asked for, then ".\r\n". Call once, after the last feed().
  void finish(std::string& out);

  // TOP: the header and the n body lines are out; the rest of the message is not needed.
  bool done() const { return done_; }
  // Octets produced so far that a client keeps after un-stuffing (no stuffing dots, no
  // terminator). For RETR this must equal the size LIST announced.
  uint64_t payload_octets() const { return payload_octets_; }
  // What payload_octets() would be if finish() were called now: plus the CRLF a last line
  // without its line end gets (and the oe-ns-eoh separator, when that applies).
  uint64_t payload_octets_if_finished() const {
    uint64_t octets = payload_octets_;
    if (!at_line_start_) {
      octets += 2;
    }
    if (options_.add_missing_separator && in_header_) {
      octets += 2;
    }
    return octets;
  }

 private:
  // One pass over at most kPassOctets of input, written to dst (room for twice the input).
  // Returns the octets written.
  size_t feed_pass(std::string_view stored, char* dst);

  DotStufferOptions options_;
  bool at_line_start_ = true;  // the next octet begins a line
  bool last_was_cr_ = false;   // the previous octet (possibly in the previous chunk) was CR
  bool in_header_ = true;      // no blank line seen yet
  bool done_ = false;
  uint64_t line_octets_ = 0;  // octets of the current line so far, before its LF
  uint64_t body_lines_ = 0;   // complete body lines produced (TOP)
  uint64_t payload_octets_ = 0;
};

}  // namespace poplar::pop3
