// Streaming RETR/TOP encoder; see dot_stuffer.h. No I/O, no allocation beyond `out`.
#include "pop3/dot_stuffer.h"

#include <algorithm>
#include <cstring>

namespace poplar::pop3 {

DotStuffer::DotStuffer(DotStufferOptions options) : options_(options) {}

void DotStuffer::feed(std::string_view stored, std::string& out) {
  const char* p = stored.data();
  const char* const end = p + stored.size();
  const size_t out_start = out.size();
  uint64_t stuffed = 0;
  while (p < end && !done_) {
    if (at_line_start_) {
      // TOP (RFC 1939 §7): stop before the first body line beyond the n requested.
      if (!in_header_ && options_.top_body_lines && body_lines_ >= *options_.top_body_lines) {
        done_ = true;
        break;
      }
      if (*p == '.') {
        out.push_back('.');  // RFC 1939 §3: byte-stuff
        ++stuffed;
      }
      at_line_start_ = false;
    }
    const void* found = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (found == nullptr) {
      out.append(p, static_cast<size_t>(end - p));
      line_octets_ += static_cast<uint64_t>(end - p);
      last_was_cr_ = end[-1] == '\r';
      break;
    }
    const char* lf = static_cast<const char*>(found);
    const size_t run = static_cast<size_t>(lf - p);
    const bool crlf = run > 0 ? lf[-1] == '\r' : last_was_cr_;
    out.append(p, run);
    line_octets_ += run;
    // A bare LF becomes CRLF (RFC 1939 §11); an existing CRLF is kept as is.
    out.append(crlf ? "\n" : "\r\n");
    const bool blank = line_octets_ == 0 || (line_octets_ == 1 && crlf);
    if (in_header_) {
      in_header_ = !blank;  // the first blank line ends the header (RFC 5322 §2.1)
    } else {
      ++body_lines_;
    }
    line_octets_ = 0;
    last_was_cr_ = false;
    at_line_start_ = true;
    p = lf + 1;
  }
  if (options_.nul_to_0x80) {
    std::replace(out.begin() + static_cast<std::ptrdiff_t>(out_start), out.end(), '\0', '\x80');
  }
  payload_octets_ += (out.size() - out_start) - stuffed;
}

void DotStuffer::finish(std::string& out) {
  if (!at_line_start_) {
    out.append("\r\n");  // RFC 1939 §11: the last line needs a line end before "."
    payload_octets_ += 2;
  }
  if (options_.add_missing_separator && in_header_) {
    out.append("\r\n");  // oe-ns-eoh: give the client the header/body separator it waits for
    payload_octets_ += 2;
  }
  out.append(".\r\n");
  at_line_start_ = true;
}

}  // namespace poplar::pop3
