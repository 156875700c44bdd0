// MboxLock: the two locks an mbox writer holds while it appends, taken in this order and
// released in the reverse one:
//   1. a dotlock, "<mbox>.lock", created with O_EXCL (mode 0600, empty). Every mbox program
//      honours it, over NFS too. One older than 5 minutes is stale (its holder died) and is
//      removed; an honest holder appends far faster than that, and in any case still holds
//      lock 2 against Poplar and against MDAs that take it.
//   2. an fcntl(2) write lock on the whole mbox (an open-file-description lock, which conflicts
//      with the classic fcntl locks of mutt, procmail and Dovecot, and with other writers of
//      this process), on the descriptor the writer appends through.
// A lock held by someone else is retried every 50 ms until the wait runs out; then kInUse. A
// fetch run from cron fails soon and retries at its next run instead of piling up.
//
// Must never: remove a dotlock younger than the stale age, follow a symbolic link at either
// path, or leave its dotlock behind once released (a crashed process does leave it: that is
// what the stale age is for).
//
// Thread-safety: one object is used by one thread at a time. The wait sleeps the calling
// thread (deliveries run off the event loop).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "store/fs/file_system.h"

namespace poplar::store::mbox {

// A dotlock whose file is older than this is taken to be left by a dead process (procmail's
// and liblockfile's default is also 5 minutes).
inline constexpr int64_t kStaleDotlockNs = int64_t{5} * 60 * 1'000'000'000;

class MboxLock {
 public:
  // Takes both locks and opens the mbox for appending (creating it with mode 0600). wait_ms:
  // how long to retry while someone else holds a lock (0: fail at once).
  // Errors: kInUse (still locked after the wait), kPermission (e.g. no write permission on the
  // mbox's directory for the dotlock), kNotFound (no such directory), kTemporary.
  static Result<std::unique_ptr<MboxLock>> take(fs::FileSystem& fs, std::string mbox_path,
                                                int64_t wait_ms);

  MboxLock(const MboxLock&) = delete;
  MboxLock& operator=(const MboxLock&) = delete;
  // Releases what is still held.
  ~MboxLock();

  // The mbox, open for appending, under both locks. REQUIRES: not released.
  fs::AppendableFile& file() { return *file_; }

  // Closes the mbox (which drops the fcntl lock), then removes the dotlock. Returns the
  // close(2) error, if any; the locks are released either way.
  Status release();

 private:
  MboxLock(fs::FileSystem& fs, std::string mbox_path, std::string dotlock_path)
      : fs_(fs), mbox_path_(std::move(mbox_path)), dotlock_path_(std::move(dotlock_path)) {}

  fs::FileSystem& fs_;
  const std::string mbox_path_;
  const std::string dotlock_path_;
  bool holds_dotlock_ = false;
  fs::AppendableFilePtr file_;
};

}  // namespace poplar::store::mbox
