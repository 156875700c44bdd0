// ExtentReader: reads one extent of a stored message (a part's body or MIME header, found by
// parse_structure) through the message's sequential reader, for `PART msg section [MIME]`. The
// octets before the extent are read and dropped a block at a time (store readers cannot seek),
// so a part is streamed without the message ever being held in memory.
//
// Must never: return an octet outside the extent, or hold more than one skip block.
//
// Thread-safety: one object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <utility>

#include "base/result.h"
#include "mime/mime_structure.h"

namespace poplar::mime {

class ExtentReader {
 public:
  ExtentReader(ReadFunction message, const Extent& extent)
      : message_(std::move(message)), extent_(extent) {}

  // ReadFunction's shape: fills up to out.size() octets of the extent, 0 at its end.
  // Errors: those of the message reader; kCorrupt when the message ends before the extent
  // does (it is not the message that was scanned).
  Result<size_t> read(std::span<char> out);

 private:
  Status skip_to_extent();

  ReadFunction message_;
  Extent extent_;
  uint64_t position_ = 0;  // octets of the message consumed so far
};

}  // namespace poplar::mime
