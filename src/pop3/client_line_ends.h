// LineEndNormalizer: the first pass over a POP3 server's bytes on the client side. Broken
// servers end lines with a bare LF (SPEC PR-C-6, node-pop3#26/#27); this rewrites every bare LF
// as CRLF so the response parser and the message data see one line end, and payload sizes count
// CRLF as 2 like LIST's (RFC 1939 §11). A line that is exactly "." ended by a bare LF is the
// one exception: it does not end a multi-line response (greenmail#1049: a server that forgot
// to stuff a "." line after a bare LF), so it is passed on stuffed ("..\r\n", the data line
// "."), unless lenient mode makes it a terminator (".\r\n").
//
// Streaming: any split of the input gives the same output; state is three small fields.
// Thread-safety: not thread-safe; one per connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace poplar::pop3 {

class LineEndNormalizer {
 public:
  explicit LineEndNormalizer(bool lenient_dot_lf = false) : lenient_dot_lf_(lenient_dot_lf) {}

  // Appends the normalised form of `in` to `out`.
  void normalize(std::string_view in, std::string& out);

 private:
  bool lenient_dot_lf_;
  bool last_was_cr_ = false;
  // Octets of the current line seen so far, counted up to 2 (all that matters is "exactly 1").
  size_t line_octets_ = 0;
  bool line_starts_with_dot_ = false;
};

}  // namespace poplar::pop3
