// Maildrop: one user's mailbox, opened with an exclusive lock, as a snapshot numbered for the
// whole session (RFC 1939 §4: numbers are fixed; new mail appears in the next session).
// Destroying the Maildrop releases the lock and changes nothing.
//
// The store knows nothing of POP3: indexes here are 0-based positions in messages(); the
// protocol's 1-based message numbers live in pop3/.
//
// Thread-safety: one Maildrop is used by one session at a time (the session may hand it to a
// worker thread for commit_update(), but never uses it concurrently).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "store/folders.h"
#include "store/message_flags.h"
#include "store/message_reader.h"

namespace poplar::store {

struct MessageInfo {
  // The exact number of octets a client receives for this message after un-stuffing: every
  // line end counted as CRLF, and a CRLF added when the message does not end with a line end
  // (RFC 1939 §11). Known without reading the body after the first index build.
  uint64_t size_octets = 0;
  // Unique within the maildrop, 1–70 characters of 0x21–0x7E, stable forever: across
  // sessions, restarts, flag changes and loss of the index file (RFC 1939 §7).
  // The characters belong to the Maildrop (a Maildir keeps them in the storage of its file
  // names, so a snapshot of 100,000 messages does not cost 100,000 allocations): the view is
  // valid exactly as long as the Maildrop that returned it lives. Copy it to keep it longer.
  std::string_view uidl;
};

// One message's new flags for commit_update(): the whole set it is to have, not a difference.
struct FlagChange {
  size_t index = 0;  // into messages()
  MessageFlags flags;
};

class Maildrop {
 public:
  virtual ~Maildrop() = default;

  // The snapshot taken at open, in maildrop order (oldest first). Valid, like the UIDLs it
  // points to, as long as this Maildrop lives.
  virtual const std::vector<MessageInfo>& messages() const = 0;

  // REQUIRES: index < messages().size().
  // Errors: kNotFound (the message vanished since the snapshot), kTemporary, kPermission.
  virtual Result<MessageReaderPtr> open_message(size_t index) = 0;

  // The UPDATE state (RFC 1939 §6): removes exactly the messages at these indexes and nothing
  // else. Each removal is atomic; a message already gone counts as removed, so repeating the
  // call after a crash is safe. Errors: kTemporary when some could not be removed (the others
  // are still removed; the message says how many failed).
  virtual Status commit_update(std::span<const size_t> deletions) = 0;

  // The message's flags as the snapshot found them (after a successful commit_update() with
  // changes, as they are now). Cheap: no body is read, and a Maildir reads at most its small
  // keywords file, once. Default (a backend without flags): none. An index out of range: none.
  virtual MessageFlags flags(size_t /*index*/) const { return {}; }

  // UPDATE with flag changes (POP4.md "When changes take effect"): removes the messages at
  // `deletions` as above and gives each message of `changes` exactly the flags there. A message
  // both removed and changed is just removed; of two changes to one message the last counts.
  // A change to a message that vanished is skipped, like a removal of it; repeating the call
  // is safe. Errors: kInvalidInput (an index out of range: nothing is changed), kLimit (the
  // backend cannot hold that many distinct keywords: nothing is changed), kTemporary (some
  // could not be applied; the others are), kUnavailable (a backend without flags, when
  // `changes` is not empty). The default is that backend: it removes when `changes` is empty.
  virtual Status commit_update(std::span<const size_t> deletions,
                               std::span<const FlagChange> changes) {
    if (!changes.empty()) {
      return Status::error(ErrorCode::kUnavailable, "this store keeps no message flags");
    }
    return commit_update(deletions);
  }

  // FLAG (POP4.md "Flag commands"): OK when one commit_update() could give this folder's
  // messages all of `keywords` at once, besides the keywords it already holds; kLimit when the
  // backend has no room for them (a Maildir has 26 keyword letters per folder, and a letter once
  // given is never taken back). Keywords the folder already knows cost nothing. The session asks
  // before it accepts a FLAG, so that UPDATE never fails with kLimit for a change it accepted.
  // Errors: kLimit (the message says how many fit), kTemporary (cannot tell now). Default: a
  // backend without such a limit, always OK.
  virtual Status check_keywords_fit(std::span<const std::string> /*keywords*/) const {
    return Status::ok();
  }

  // POP4 FOLDERS: the folder tree this maildrop is the INBOX of, covered by its lock
  // (store/folders.h). Owned by the Maildrop. nullptr for a backend without folders and for a
  // Maildrop that is itself a folder (Folders::open()).
  virtual Folders* folders() { return nullptr; }
};

using MaildropPtr = std::unique_ptr<Maildrop>;

class MailStore {
 public:
  virtual ~MailStore() = default;

  // Opens the maildrop at `location` (for Maildir: the Maildir directory path) and takes its
  // exclusive lock. Errors: kInUse (another session holds the lock), kNotFound (no such
  // maildrop), kPermission, kCorrupt, kTemporary.
  virtual Result<MaildropPtr> open_maildrop(const std::string& location) = 0;

  // A hint, not a promise: true when opening `location` now is likely to take microseconds
  // (small, already indexed), so a server may open it on its event loop instead of handing it
  // to a worker thread. Must itself cost at most a stat(2). Default: never.
  virtual bool open_is_cheap(const std::string& /*location*/) { return false; }
};

using MailStorePtr = std::unique_ptr<MailStore>;

}  // namespace poplar::store
