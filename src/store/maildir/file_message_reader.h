// FileMessageReader: a MessageReader over an open file that reads in large blocks (64 KiB), so
// a RETR of a big message costs few system calls, yet never holds more than one block in
// memory, whatever the size of the message.
//
// Must never: buffer more than one block, or reorder or alter the bytes.
//
// Thread-safety: one reader is used by one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "store/fs/file_system.h"
#include "store/message_reader.h"

namespace poplar::store::maildir {

// One read(2) of this size moves a typical message in one or two calls; larger blocks gain
// little and cost memory per concurrent RETR.
inline constexpr size_t kReadBlockBytes = 64 * 1024;

class FileMessageReader final : public MessageReader {
 public:
  explicit FileMessageReader(fs::SequentialFilePtr file) : file_(std::move(file)) {}

  Result<size_t> read(std::span<char> out) override;

 private:
  fs::SequentialFilePtr file_;
  // Allocated on the first read smaller than a block; callers passing a whole block or more
  // read straight into their own buffer.
  std::unique_ptr<char[]> block_;
  size_t block_start_ = 0;
  size_t block_end_ = 0;
  bool at_end_ = false;
};

}  // namespace poplar::store::maildir
