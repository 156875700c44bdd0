#include "base/line_splitter.h"

#include <cstring>

namespace poplar {

void LineSplitter::append(std::string_view data) {
  if (discarding_) {
    const void* lf = std::memchr(data.data(), '\n', data.size());
    if (lf == nullptr) {
      return;
    }
    size_t skip = static_cast<const char*>(lf) - data.data() + 1;
    data.remove_prefix(skip);
    discarding_ = false;
  }
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
    scanned_ = 0;
  }
  buffer_.append(data);
}

LineSplitter::Next LineSplitter::next() {
  const char* base = buffer_.data() + start_;
  size_t avail = buffer_.size() - start_;
  const void* lf = std::memchr(base + scanned_, '\n', avail - scanned_);
  if (lf == nullptr) {
    if (avail >= max_line_octets_) {
      // No line end within the limit: drop what we hold and skip to the next LF.
      buffer_.clear();
      start_ = 0;
      scanned_ = 0;
      discarding_ = true;
      return {Kind::kTooLong, {}};
    }
    scanned_ = avail;
    if (start_ > 0) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    return {Kind::kNeedMore, {}};
  }
  size_t end = static_cast<const char*>(lf) - base;  // index of LF
  size_t consumed = end + 1;
  start_ += consumed;
  scanned_ = 0;
  if (consumed > max_line_octets_) {
    return {Kind::kTooLong, {}};
  }
  size_t len = end;
  if (len > 0 && base[len - 1] == '\r') {
    --len;
  }
  return {Kind::kLine, std::string_view(base, len)};
}

void LineSplitter::clear() {
  buffer_.clear();
  start_ = 0;
  scanned_ = 0;
  discarding_ = false;
}

}  // namespace poplar
