// ExtentReader: one extent of a message through its sequential reader (extent_reader.h).
//
// Must never: read past the extent's end from the message reader.
//
// Thread-safety: no shared state.
#include "mime/extent_reader.h"

#include <algorithm>
#include <string>
#include <vector>

namespace poplar::mime {
namespace {

constexpr size_t kSkipBlockOctets = 64 * 1024;

Status ended_early(uint64_t at) {
  return Status::corrupt("the message ends at octet " + std::to_string(at) +
                         ", inside a MIME part found earlier: it changed since it was scanned");
}

}  // namespace

Status ExtentReader::skip_to_extent() {
  if (position_ >= extent_.offset) {
    return Status::ok();
  }
  std::vector<char> block(
      static_cast<size_t>(std::min<uint64_t>(kSkipBlockOctets, extent_.offset - position_)));
  while (position_ < extent_.offset) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), extent_.offset - position_));
    Result<size_t> n = message_(std::span<char>(block.data(), want));
    if (!n.is_ok()) {
      return n.status();
    }
    if (*n == 0) {
      return ended_early(position_);
    }
    position_ += std::min(*n, want);
  }
  return Status::ok();
}

Result<size_t> ExtentReader::read(std::span<char> out) {
  if (Status s = skip_to_extent(); !s.is_ok()) {
    return s;
  }
  uint64_t end = extent_.offset + extent_.length;
  if (position_ >= end || out.empty()) {
    return size_t{0};
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), end - position_));
  Result<size_t> n = message_(out.first(want));
  if (!n.is_ok()) {
    return n.status();
  }
  if (*n == 0) {
    return ended_early(position_);
  }
  size_t got = std::min(*n, want);
  position_ += got;
  return got;
}

}  // namespace poplar::mime
