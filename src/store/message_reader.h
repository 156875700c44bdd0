// MessageReader: pulls the stored bytes of one message, in order, a block at a time. The bytes
// are the message as stored (LF or CRLF line ends, no dot-stuffing); pop3/dot_stuffer turns
// them into wire form. Readers never load a whole message into memory.
//
// Thread-safety: one reader is used by one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "base/result.h"

namespace poplar::store {

class MessageReader {
 public:
  virtual ~MessageReader() = default;
  // Fills up to out.size() bytes; returns how many were written, 0 at the end of the message.
  // Errors: kTemporary (I/O error), kNotFound (the file vanished).
  virtual Result<size_t> read(std::span<char> out) = 0;
};

using MessageReaderPtr = std::unique_ptr<MessageReader>;

}  // namespace poplar::store
