// LineScanner: lines with offsets and bounded heads from a chunked message (line_scanner.h).
//
// Must never: hold more than max_head + 1 octets of a line.
//
// Thread-safety: no shared state.
#include "mime/line_scanner.h"

#include <algorithm>
#include <cstring>

namespace poplar::mime {

void LineScanner::hold(std::string_view piece) {
  size_t room = max_head_ + 1 > held_.size() ? max_head_ + 1 - held_.size() : 0;
  held_.append(piece.substr(0, std::min(room, piece.size())));
}

Status LineScanner::feed(std::string_view chunk, const Sink& sink) {
  const char* const begin = chunk.data();
  const char* const end = begin + chunk.size();
  const char* p = begin;
  while (p < end) {
    const void* found = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (found == nullptr) {
      hold(std::string_view(p, static_cast<size_t>(end - p)));
      held_length_ += static_cast<uint64_t>(end - p);
      break;
    }
    const char* lf = static_cast<const char*>(found);
    std::string_view piece(p, static_cast<size_t>(lf - p));  // this chunk's part, LF excluded
    // An LF first in the chunk continues a line held from earlier chunks; last_octet_ is then
    // still the previous chunk's last octet.
    char before_lf = !piece.empty() ? piece.back() : (held_length_ > 0 ? last_octet_ : '\0');
    Line line;
    line.offset = line_start_;
    line.length = held_length_ + piece.size() + 1;
    line.eol_octets = before_lf == '\r' ? 2 : 1;
    line.content_length = line.length - static_cast<uint64_t>(line.eol_octets);
    line.bare_lf_before = bare_lf_count_;
    size_t head_size = static_cast<size_t>(std::min<uint64_t>(line.content_length, max_head_));
    if (held_length_ == 0) {
      line.head = piece.substr(0, head_size);  // the whole line is in this chunk: no copy
    } else {
      hold(piece);
      held_.resize(std::min(held_.size(), head_size));
      line.head = held_;
    }
    if (line.eol_octets == 1) {
      ++bare_lf_count_;
    }
    line_start_ += line.length;
    held_length_ = 0;
    p = lf + 1;
    Status s = sink(line);
    held_.clear();  // only now: line.head may point into it
    if (!s.is_ok()) {
      return s;
    }
  }
  if (!chunk.empty()) {
    octets_ += chunk.size();
    last_octet_ = chunk.back();
  }
  return Status::ok();
}

Status LineScanner::finish(const Sink& sink) {
  if (held_length_ == 0) {
    return Status::ok();
  }
  Line line;
  line.offset = line_start_;
  line.length = held_length_;
  line.eol_octets = 0;
  line.content_length = held_length_;
  line.bare_lf_before = bare_lf_count_;
  held_.resize(std::min(held_.size(), max_head_));
  line.head = held_;
  line_start_ += held_length_;
  held_length_ = 0;
  Status s = sink(line);
  held_.clear();
  return s;
}

}  // namespace poplar::mime
