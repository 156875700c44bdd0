// LineScanner: cuts a stored message, fed in chunks of any size, into lines with their offsets,
// line ends and a bounded head (the first octets of each line). The MIME structure scanner
// needs no more than that: delimiter lines and header fields are recognised by their start,
// and a 50 MB base64 line without a line end costs no more memory than the head.
//
// Line ends are those of store/crlf_size.h: an LF, counted as CRLF when a CR precedes it; a CR
// not followed by LF is an ordinary octet. The scanner also counts the bare LFs before each
// line, so that wire (CRLF) sizes of any range between line boundaries cost nothing extra.
//
// Must never: depend on how the input is cut into chunks, or hold more than max_head octets.
//
// Thread-safety: one object is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace poplar::mime {

struct Line {
  uint64_t offset = 0;          // its first octet, in the message as stored
  uint64_t length = 0;          // octets, line end included
  uint64_t content_length = 0;  // octets, line end excluded
  int eol_octets = 0;           // 2 (CRLF), 1 (bare LF), 0 (the last line, without a line end)
  uint64_t bare_lf_before = 0;  // bare LFs in the message before `offset`
  // The first min(content_length, max_head) octets, without the line end. Valid only during
  // the sink call.
  std::string_view head;
  bool head_complete() const { return content_length == head.size(); }
};

class LineScanner {
 public:
  // A sink's error stops the scan and is returned by feed()/finish().
  using Sink = std::function<Status(const Line&)>;

  explicit LineScanner(size_t max_head) : max_head_(max_head) {}

  // Calls sink for every line that `chunk` completes.
  Status feed(std::string_view chunk, const Sink& sink);
  // Ends the message: calls sink for a last line without a line end, if there is one.
  Status finish(const Sink& sink);

  uint64_t octets() const { return octets_; }
  uint64_t bare_lf_count() const { return bare_lf_count_; }
  // Whether the last octet fed is an LF (false for an empty message).
  bool ends_with_lf() const { return octets_ > 0 && last_octet_ == '\n'; }

 private:
  // Adds the first octets of `piece` (the continuation of the current line) to the held head.
  void hold(std::string_view piece);

  size_t max_head_;
  uint64_t octets_ = 0;
  uint64_t bare_lf_count_ = 0;
  char last_octet_ = '\0';
  // The current line's octets fed before this chunk: its length and up to max_head_ + 1 of
  // them (one more than the head, so a CR before the LF can still be cut off).
  uint64_t line_start_ = 0;
  uint64_t held_length_ = 0;
  std::string held_;
};

}  // namespace poplar::mime
