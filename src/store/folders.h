// Folders: the POP4 folder tree of one user's maildrop (POP4.md "Folder commands";
// docs/pop4.md). A session gets it from the INBOX Maildrop it opened at login
// (Maildrop::folders()); the lock that open took covers the whole tree, so no other POP3
// session changes it meanwhile. Other programs (an MTA delivering into a folder, an IMAP server
// on the same Maildir) may; every operation is written so that they never see a half-made
// folder or a half-written message.
//
// Names are POP4 wire names after unquoting: UTF-8, levels separated by '/', "INBOX" in any
// case for the inbox (store/folder_name_rules.h has the rules every backend applies: empty
// levels, ".", "..", controls, '.' inside a level, more than 20 levels, ... are kInvalidInput).
// Error messages never repeat a rejected name (it may be megabytes long or hold control
// characters); they say which rule it broke.
//
// Timing (POP4.md "When changes take effect"): everything here is immediate and none of it
// destroys a message. remove() refuses a folder that holds one; the removal half of MOVE is a
// deletion the session applies at UPDATE through the source Maildrop's commit_update().
//
// Thread-safety: used by one thread at a time (the session's, or the worker it hands a call
// to); it belongs to the Maildrop that returned it and must not outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "store/message_flags.h"
#include "store/message_writer.h"

namespace poplar::store {

class Maildrop;
using MaildropPtr = std::unique_ptr<Maildrop>;

// What STAT would give for a folder: its messages and their CRLF octets.
struct FolderCounts {
  uint64_t messages = 0;
  uint64_t octets = 0;
};

// STOR's writer: MessageWriter's contract (CRLF wire chunks, un-dot-stuffed; nothing visible
// before commit(); destroyed without commit, nothing is left behind), plus the new message's
// UIDL once it is committed.
class FolderMessageWriter : public MessageWriter {
 public:
  // Valid after a successful commit(): the UIDL the message has in its folder (what UIDL shows
  // after selecting the folder in a later snapshot).
  virtual std::string_view uidl() const = 0;
};
using FolderMessageWriterPtr = std::unique_ptr<FolderMessageWriter>;

class Folders {
 public:
  virtual ~Folders() = default;

  // Every folder's canonical wire name: "INBOX" first, then the others bytewise (code point
  // order for UTF-8). Errors: kPermission, kTemporary.
  virtual Result<std::vector<std::string>> list() = 0;

  // The numbers of a folder other than INBOX that is not open (the session takes those of INBOX
  // and of the selected folder from its own snapshots: their locks are held). Errors:
  // kInvalidInput (bad name), kNotFound (no such folder), kInUse (it is open), kPermission,
  // kTemporary.
  virtual Result<FolderCounts> counts(std::string_view name) = 0;

  // SFLD: a snapshot of a folder other than INBOX, with the folder's own lock, numbered like a
  // maildrop at login (oldest first, fixed while it lives). Its commit_update() removes and
  // flags as INBOX's does. Its folders() is nullptr. Errors: kInvalidInput (bad name, INBOX),
  // kNotFound (no such folder), kInUse (already open), kPermission, kCorrupt, kTemporary.
  virtual Result<MaildropPtr> open(std::string_view name) = 0;

  // CFLD: creates the folder and every missing parent. Errors: kInvalidInput (bad name, INBOX,
  // exists already), kPermanent (something not a folder holds the name), kPermission,
  // kTemporary.
  virtual Status create(std::string_view name) = 0;

  // DFLD: deletes a folder that holds no message and no subfolder; never INBOX. The caller must
  // not have it open. Errors: kInvalidInput (bad name, INBOX, not empty, has subfolders),
  // kNotFound, kPermission, kTemporary.
  virtual Status remove(std::string_view name) = 0;

  // RENF: renames a folder and everything beneath it; never INBOX on either side; the new name
  // must not exist or lie beneath the old one. Missing parents of the new name are created.
  // The caller must not have the folder or one beneath it open. Errors: kInvalidInput,
  // kNotFound, kPermission, kTemporary (nothing is renamed).
  virtual Status rename(std::string_view from, std::string_view to) = 0;

  // MOVF: moves a folder and everything beneath it under `parent` ("" for the top level; the
  // parent must exist). Errors: as rename(); kNotFound also for a missing parent.
  virtual Status move_under(std::string_view name, std::string_view parent) = 0;

  // COPY (and the copy half of MOVE): copies message `index` of `source` (a Maildrop of this
  // tree: INBOX's or one returned by open()) into folder `target`, giving the copy exactly
  // `flags` (the session passes the flags the message will have after UPDATE). The copy is
  // durable when this returns OK and is a new message with its own UIDL in `target`; the
  // source is never changed. `target` may be INBOX or the folder `source` belongs to (the copy
  // shows in the next snapshot). Errors: kInvalidInput (bad name; an index out of range),
  // kNotFound (no such folder; the message vanished), kLimit (the target cannot hold another
  // keyword), kPermission, kTemporary (nothing new is left in the target).
  virtual Status copy_message(Maildrop& source, size_t index, std::string_view target,
                              const MessageFlags& flags) = 0;

  // STOR: starts a new message in folder `target` (INBOX allowed) that gets `flags`. The writer
  // streams to temporary storage; only commit() makes the message appear. Errors (here or from
  // the writer's calls): kInvalidInput, kNotFound (no such folder), kLimit (keywords),
  // kPermission, kTemporary.
  virtual Result<FolderMessageWriterPtr> begin_store(std::string_view target,
                                                     const MessageFlags& flags) = 0;
};

}  // namespace poplar::store
