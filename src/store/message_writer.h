// MessageWriter: one message being delivered into a local mail store (a Maildir, an mbox), as
// it arrives. `poplar fetch` passes each RETR body through as it comes off the socket, and the
// later LMTP/LDA `poplar deliver` will do the same, so a writer never needs the whole message
// in memory.
//
// Input: the message as sent on the wire (RFC 1939 §3, RFC 5321 §4.5.2): CRLF line ends,
// already un-dot-stuffed, cut into chunks anywhere (even between a CR and its LF). Local stores
// keep LF line ends (Maildir and mbox convention), so writers convert CRLF to LF as they go
// (store/lf_line_ends.h).
//
// Life cycle: write() any number of times, then commit(). Only when commit() returns OK is the
// message durable (fsynced, with its directory entry) and complete in the store. Destroying a
// writer without a successful commit() leaves nothing behind that a reader would take for a
// message (a Maildir tmp/ file is removed; an mbox is truncated back to its size before).
// After an error from write() or commit() the writer is spent: every later call returns the
// first error, and destroying it cleans up.
//
// Must never: leave half a message where a reader looks, overwrite an existing message, or
// buffer more than a bounded amount of the message.
//
// Thread-safety: one writer is used by one thread at a time; distinct writers are independent
// (they serialize through the store's own locks).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"

namespace poplar::store {

class MessageWriter {
 public:
  virtual ~MessageWriter() = default;

  // Adds the next piece of the message (CRLF line ends, any split).
  // Errors: kTemporary (ENOSPC, EIO, ...), kPermission.
  virtual Status write(std::string_view wire_chunk) = 0;

  // Makes the message durable and returns where it went, for logs: the path of the new
  // Maildir file, or "<mbox path>@<offset of its From_ line>". Call at most once.
  // Errors: kTemporary (ENOSPC, EIO, a failed fsync), kPermission, kNotFound (the target
  // vanished), kInUse (a Maildir name already taken: never with unique names).
  virtual Result<std::string> commit() = 0;

  // Octets passed to write() so far (the CRLF form received).
  virtual uint64_t received_octets() const = 0;
  // Octets of the message as stored (LF line ends), without any store framing (an mbox From_
  // line, quoting, separator).
  virtual uint64_t stored_octets() const = 0;
};
using MessageWriterPtr = std::unique_ptr<MessageWriter>;

}  // namespace poplar::store
