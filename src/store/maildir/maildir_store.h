// MaildirStore: the default MailStore. A maildrop is the `new/` + `cur/` of one Maildir
// directory; opening it takes `<maildir>/poplar.lock` with an exclusive flock(2) and snapshots
// the messages, oldest first, with their CRLF sizes (from ",W=" name fields or Poplar's index
// file, read bodies only for names seen for the first time) and UIDLs derived from the base
// names. When neither directory changed since the index was written, the index is the
// snapshot and nothing is listed. docs/formats/maildir.md describes the files Poplar reads and
// writes.
//
// Usage (server wiring):
//   store::maildir::MaildirStore store(store::fs::posix_file_system());
//   Result<MaildropPtr> drop = store.open_maildrop("/home/bob/Maildir");  // on a worker thread
//
// Must never: know about POP3; read a message body at login when its size is already known;
// remove a message that commit_update() was not asked to remove; keep the lock after a failed
// open.
//
// Thread-safety: open_maildrop() may be called from any number of threads at once (the store
// has no mutable state; the FileSystem is thread-safe). Each Maildrop is used by one thread at
// a time.
#pragma once

#include <string>

#include "store/fs/file_system.h"
#include "store/maildrop.h"

namespace poplar::store::maildir {

// The lock file in the Maildir root. Poplar sessions exclude each other with it; other
// programs (MTAs, IMAP servers) do not take it and need not: Maildir is safe without locks,
// and a file they move or remove meanwhile is handled (see open_message, commit_update).
inline constexpr std::string_view kLockFileName = "poplar.lock";

class MaildirStore final : public MailStore {
 public:
  // `file_system` must outlive the store and every Maildrop it opens; production passes
  // fs::posix_file_system(), tests a wrapper that counts or fails operations.
  explicit MaildirStore(fs::FileSystem& file_system) : fs_(file_system) {}

  // `location` is the Maildir directory. A missing Maildir is created (mode 0700, with cur/,
  // new/ and tmp/): a new user simply has no mail yet; its parent must exist.
  // Errors: kInUse (another session holds the lock), kNotFound (the parent directory does not
  // exist), kPermission, kPermanent (new/ or cur/ exists but is not a directory),
  // kInvalidInput (empty location), kTemporary (I/O error; retry later).
  Result<MaildropPtr> open_maildrop(const std::string& location) override;

  // The index file exists, is below kCheapIndexOctets (about 1,000 messages) and is newer than
  // new/ (nothing delivered since): the open is a couple of stats and one small read, or a
  // short listing. A first open (no index: bodies may have to be read), a big maildrop or one
  // with fresh deliveries is not cheap. Two stat(2) calls.
  bool open_is_cheap(const std::string& location) override;
  static constexpr uint64_t kCheapIndexOctets = 64 * 1024;

 private:
  fs::FileSystem& fs_;
};

}  // namespace poplar::store::maildir
