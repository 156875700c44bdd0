// Delivery onto the end of an mbox file, in the mboxrd format (RFC 4155; docs/formats/mbox.md):
//   From <envelope sender> <asctime UTC>\n
//   <the message, LF line ends, every line matching ^>*From  with one more '>'>\n   (ends in LF)
//   \n                                                                               (separator)
// under a dotlock and an fcntl lock (store/mbox/mbox_lock.h) held from begin to commit or
// abandon. The writer remembers the mbox's size before it appends; a failed write or sync, an
// abandoned delivery (destroyed without commit) and a failed commit all truncate the mbox back
// to that size, so no half message stays in it. Only a crash of the machine or a kill -9 in the
// middle of an append can leave a partial last message (as with every mbox MDA); see
// docs/formats/mbox.md.
//
// The envelope sender, when the caller does not give one, is read from the message's
// Return-Path field, so the header block (at most 64 KiB of it) is held until its end has
// arrived; the rest of the message streams through in blocks of 64 KiB.
//
// Must never: write into the mbox without both locks, leave a partial message behind after an
// error it saw, or hold more than ~128 KiB of the message.
//
// Thread-safety: a writer is used by one thread at a time; writers of one mbox serialize on its
// locks.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "store/fs/file_system.h"
#include "store/message_writer.h"

namespace poplar::store::mbox {

struct MboxOptions {
  // The address for the From_ line. Empty: the message's Return-Path, else MAILER-DAEMON.
  // Must be 1-256 octets of 0x21-0x7E when given.
  std::string envelope_sender{};
  // The date of the From_ line, in seconds since the epoch; negative: now.
  int64_t time_s = -1;
  // How long to wait for another program's lock before failing with kInUse. A few seconds:
  // MUAs and MDAs hold it only while they write.
  int64_t lock_wait_ms = 5000;
};

// Takes the locks and opens (or creates, mode 0600) the mbox at path. Nothing is written until
// the first write() that completes the header block (or commit()).
// Errors: kInvalidInput (a bad envelope_sender), kInUse (locked after the wait), kNotFound (no
// such directory), kPermission, kTemporary.
Result<MessageWriterPtr> begin_mbox_delivery(fs::FileSystem& fs, std::string path,
                                             MboxOptions options = {});

}  // namespace poplar::store::mbox
