// Block-buffered message reader; see file_message_reader.h.
//
// Must never: hold more than one block.
//
// Thread-safety: one thread at a time.
#include "store/maildir/file_message_reader.h"

#include <algorithm>
#include <cstring>

namespace poplar::store::maildir {

Result<size_t> FileMessageReader::read(std::span<char> out) {
  if (out.empty()) {
    return size_t{0};
  }
  if (block_start_ == block_end_) {
    if (at_end_) {
      return size_t{0};
    }
    if (out.size() >= kReadBlockBytes) {
      Result<size_t> n = file_->read(out);
      if (n.is_ok() && *n == 0) {
        at_end_ = true;
      }
      return n;
    }
    if (!block_) {
      block_ = std::make_unique<char[]>(kReadBlockBytes);
    }
    Result<size_t> n = file_->read(std::span<char>(block_.get(), kReadBlockBytes));
    if (!n.is_ok()) {
      return n;
    }
    if (*n == 0) {
      at_end_ = true;
      return size_t{0};
    }
    block_start_ = 0;
    block_end_ = *n;
  }
  size_t count = std::min(out.size(), block_end_ - block_start_);
  std::memcpy(out.data(), block_.get() + block_start_, count);
  block_start_ += count;
  return count;
}

}  // namespace poplar::store::maildir
