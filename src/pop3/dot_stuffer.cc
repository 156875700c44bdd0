// Streaming RETR/TOP encoder; see dot_stuffer.h. No I/O, no allocation beyond `out`.
#include "pop3/dot_stuffer.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace poplar::pop3 {

DotStuffer::DotStuffer(DotStufferOptions options) : options_(options) {}

namespace {

// Input handled per pass: the output of a pass (at most twice the input, see below) is built in
// a per-thread scratch area with plain stores and appended to `out` in one copy. Appending run
// by run to a std::string costs more than the copy for mail with short lines.
constexpr size_t kPassOctets = 32 * 1024;
// Every input octet yields at most two output octets: LF -> CRLF, and a "." that starts a line
// gets a second "." (a line is at least the "." itself).
constexpr size_t kScratchOctets = 2 * kPassOctets;

}  // namespace

void DotStuffer::feed(std::string_view stored, std::string& out) {
  thread_local std::unique_ptr<char[]> scratch = std::make_unique<char[]>(kScratchOctets);
  while (!stored.empty() && !done_) {
    const size_t take = std::min(stored.size(), kPassOctets);
    const size_t made = feed_pass(stored.substr(0, take), scratch.get());
    out.append(scratch.get(), made);
    stored.remove_prefix(take);
  }
}

size_t DotStuffer::feed_pass(std::string_view stored, char* const dst) {
  const char* p = stored.data();
  const char* const end = p + stored.size();
  char* d = dst;
  uint64_t stuffed = 0;
  while (p < end) {
    if (at_line_start_) {
      // TOP (RFC 1939 §7): stop before the first body line beyond the n requested.
      if (!in_header_ && options_.top_body_lines && body_lines_ >= *options_.top_body_lines) {
        done_ = true;
        break;
      }
      if (*p == '.') {
        *d++ = '.';  // RFC 1939 §3: byte-stuff
        ++stuffed;
      }
      at_line_start_ = false;
    }
    const void* found = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (found == nullptr) {
      const size_t rest = static_cast<size_t>(end - p);
      std::memcpy(d, p, rest);
      d += rest;
      line_octets_ += rest;
      last_was_cr_ = end[-1] == '\r';
      break;
    }
    const char* lf = static_cast<const char*>(found);
    const size_t run = static_cast<size_t>(lf - p);
    const bool crlf = run > 0 ? lf[-1] == '\r' : last_was_cr_;
    std::memcpy(d, p, run);
    d += run;
    line_octets_ += run;
    // A bare LF becomes CRLF (RFC 1939 §11); an existing CRLF is kept as is.
    if (!crlf) {
      *d++ = '\r';
    }
    *d++ = '\n';
    if (in_header_) {
      // The first blank line ends the header (RFC 5322 §2.1).
      in_header_ = !(line_octets_ == 0 || (line_octets_ == 1 && crlf));
    } else {
      ++body_lines_;
    }
    line_octets_ = 0;
    last_was_cr_ = false;
    at_line_start_ = true;
    p = lf + 1;
  }
  const size_t made = static_cast<size_t>(d - dst);
  if (options_.nul_to_0x80) {
    std::replace(dst, d, '\0', '\x80');
  }
  payload_octets_ += made - stuffed;
  return made;
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
