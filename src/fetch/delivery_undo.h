// Undoing a delivery that `poplar fetch` made but could not record in its state file (issue 7):
// without its UIDL on record the next run would fetch the message again, so the run takes the
// message back out of the target where it safely can. A Maildir file is unlinked (its name is
// unique to this delivery); an mbox is truncated back to where this run's unrecorded messages
// began, but only under the mbox locks and only when exactly those messages follow that offset
// (nobody appended after them).
//
// Must never: remove anything but the deliveries named; truncate an mbox that holds anything
// after the given offset but the given number of messages.
//
// Thread-safety: free functions; the mbox undo takes the mbox's locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/status.h"
#include "store/fs/file_system.h"

namespace poplar::fetch {

// Unlinks `file_path` (what the Maildir writer's commit() returned) and syncs its directory.
// Errors: as fs::FileSystem::unlink and sync_directory (a file already gone is OK).
Status undo_maildir_delivery(store::fs::FileSystem& fs, const std::string& file_path);

// The offset in "<mbox path>@<offset>", what the mbox writer's commit() returns.
// Errors: kInvalidInput (no '@' followed by a number).
Result<uint64_t> mbox_offset_of(const std::string& committed_where);

// Truncates the mbox at `mbox_path` back to `offset` (and syncs it) when, under its locks, the
// file from `offset` to its end is exactly `messages` mboxrd messages (lines starting with
// "From ", the first one at `offset`). Errors: kPermanent (something else follows the offset:
// the mbox is left as it is), kInUse (locked by someone else after a short wait), the file
// system's errors.
Status undo_mbox_deliveries(store::fs::FileSystem& fs, const std::string& mbox_path,
                            uint64_t offset, size_t messages);

}  // namespace poplar::fetch
