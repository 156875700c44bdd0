// MaildirMaildrop: one opened Maildir (see maildir_store.h for the user's view). Internal to
// store/maildir; the rest of Poplar sees it only as a store::Maildrop.
//
// Opening it costs, in the common case of a maildrop unchanged since the last index write,
// two stat(2)s and one read of the index file: the index then is the snapshot, and neither
// new/ nor cur/ is listed (index_file.h says when a recorded listing is still valid).
// Otherwise it lists both, takes sizes from ",W=" name fields and the index, reads the bodies
// of messages seen for the first time (on two threads when there are many: a first login),
// and rewrites the index.
//
// What it keeps per message is 32 bytes: a MessageInfo (size and a UIDL view) and an 8-byte
// Slot. The names stay in the one buffer they were read into (the index file's bytes, or the
// names of the directory listings), and the UIDLs point into them, so a snapshot of 100,000
// messages costs a few large allocations, not hundreds of thousands of small ones. Flags cost
// nothing per message: flags() parses them from the name's info part when asked, and reads the
// keywords file once, on the first keyword letter. commit_update() with flag changes renames
// files atomically (docs/formats/maildir.md "Flags").
//
// Must never: read a body whose size is known (",W=" field or index); unlink or rename a file
// that was not asked for; rename over an existing file; hold the lock after a failed open (the
// lock is a member, released when the half-built object dies).
//
// Thread-safety: one thread at a time (Maildrop contract). open() may start one helper thread
// of its own and joins it before returning.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/fs/file_system.h"
#include "store/maildir/file_name.h"
#include "store/maildir/index_file.h"
#include "store/maildir/keywords_file.h"
#include "store/maildrop.h"

namespace poplar::store::maildir {

class MaildirFolders;

class MaildirMaildrop final : public Maildrop {
 public:
  // What the Maildir is to the session: a user's INBOX (the Maildir root; folders() is its
  // Maildir++ tree, maildir_folders.h) or one folder of that tree (Folders::open(); folders()
  // is nullptr).
  enum class Kind { kInbox, kFolder };

  // Creates the Maildir if missing, locks it and takes the snapshot. `root` has no trailing
  // slash. Errors: see MaildirStore::open_maildrop.
  static Result<MaildropPtr> open(fs::FileSystem& fs, std::string root, Kind kind = Kind::kInbox);

  ~MaildirMaildrop() override;
  MaildirMaildrop(const MaildirMaildrop&) = delete;
  MaildirMaildrop& operator=(const MaildirMaildrop&) = delete;

  const std::vector<MessageInfo>& messages() const override { return messages_; }
  Result<MessageReaderPtr> open_message(size_t index) override;
  Status commit_update(std::span<const size_t> deletions) override;
  // Flag changes rename files (new/ → cur/ for messages still in new/) to `<base>:2,<letters>`
  // (info_flags.h), after writing new keywords to the keywords file (keywords_file.h).
  Status commit_update(std::span<const size_t> deletions,
                       std::span<const FlagChange> changes) override;
  // From the name's info letters; the keywords file is read on the first keyword letter.
  MessageFlags flags(size_t index) const override;
  // The INBOX's folder tree, made on first use (nothing is read before a POP4 command asks).
  Folders* folders() override;

  // The path of message `index`'s file as it is named now (found again when its name changed
  // since the snapshot), for Folders::copy_message to link. Errors: kInvalidInput (index out of
  // range), kNotFound (removed, or no file with its base name is left), kPermission,
  // kTemporary.
  Result<std::string> message_path(size_t index);
  // Reads the keywords file afresh (a copy into this folder may have given out letters since)
  // and gives the missing keywords letters in a scratch table, as commit_update() would.
  Status check_keywords_fit(std::span<const std::string> keywords) const override;

 private:
  // Per message, parallel to messages_. 8 bytes; the base name is the name up to its first ':'.
  struct Slot {
    uint32_t name_offset;  // into arena_[dir], or relocated_names_ when relocated
    uint16_t name_length;
    Subdir dir;
    uint8_t relocated : 1;  // the file was found again under a new name (relocated_names_)
    uint8_t removed : 1;    // commit_update() removed it (or found it gone)
  };

  struct Candidate;
  class Relocator;
  // What one commit_update() did and failed to do, for its result and the index rewrite.
  struct CommitTally {
    size_t failed = 0;
    std::string first_error;
    bool changed[2] = {false, false};  // directories whose entries the call changed
    void fail(const Status& status);
  };
  // A flag change still to be made: slots_[index] gets the name `name` in cur/.
  struct Rename {
    size_t index;
    std::string name;
  };
  class SnapshotSink;
  // The CRLF size read from one file (the error, if any, is kept apart).
  struct ScanOutcome {
    uint64_t size_octets = 0;
  };

  MaildirMaildrop(fs::FileSystem& fs, std::string root, Kind kind);

  // The steps of open(), in order. create_if_missing() runs only when the lock file could
  // not be opened for want of its directory (ENOENT).
  Status lock_and_load();
  Result<bool> create_if_missing();  // true: it was missing and is now created, empty
  // The index is valid for both directories: it is the snapshot. Errors: kCorrupt (a bad
  // line; nothing is kept then).
  Status load_from_index(IndexFile& index);
  // List new/ and cur/; the index (possibly empty) supplies the sizes it still knows.
  Status load_from_listing(const IndexContents& index, bool index_usable, bool index_corrupt,
                           const DirectoryStamp (&stamps)[2]);
  Status list_or_create(Subdir dir, fs::DirectoryListing* out, bool* created);
  void scan_sizes(std::span<const Candidate> candidates, std::span<const uint32_t> todo,
                  std::vector<ScanOutcome>* outcomes,
                  std::vector<std::pair<uint32_t, Status>>* failures) const;
  Status collect_candidates(const fs::DirectoryListing (&listings)[2],
                            std::vector<Candidate>* candidates, bool (&unsettled)[2]);
  void sort_candidates(std::vector<Candidate>* candidates) const;
  // Sets the UIDL of message i: a view of its base name, or a hashed UIDL (uidl.h) kept in
  // hashed_uidls_ and pointed to by finish_uidls().
  void assign_uidl(size_t i, std::string_view base, uint32_t occurrence,
                   std::vector<std::pair<size_t, size_t>>* hashed);
  void finish_uidls(const std::vector<std::pair<size_t, size_t>>& hashed);
  void rewrite_index(const DirectoryStamp (&stamps)[2]);

  std::string_view name_of(const Candidate& c) const;
  std::string_view base_of(const Candidate& c) const;

  std::string_view arena_of(const Slot& slot) const {
    return slot.relocated ? std::string_view(relocated_names_) : arena_[index_of(slot.dir)];
  }
  std::string_view name_of(const Slot& slot) const {
    return arena_of(slot).substr(slot.name_offset, slot.name_length);
  }
  std::string_view base_of(const Slot& slot) const { return base_name(name_of(slot)); }
  std::string subdir_path(Subdir dir) const;
  std::string path_of(Subdir dir, std::string_view name) const;
  std::string path_of(const Slot& slot) const { return path_of(slot.dir, name_of(slot)); }
  // Opens the slot's file by name in its directory (message_dirs_).
  Result<fs::SequentialFilePtr> open_file(const Slot& slot);
  // Points the slot at the name its file has now (after a move new/ → cur/ or a flag change).
  Status relocate(Slot& slot, Subdir dir, std::string_view name);
  // Finds the file of slots_[index] again after its recorded name vanished. Returns false when
  // no file with its base name is left.
  Result<bool> find_moved(Relocator& relocator, size_t index);
  // The steps of commit_update().
  Status plan_renames(std::span<const size_t> deletions, std::span<const FlagChange> changes,
                      std::vector<Rename>* renames);
  void remove_messages(std::span<const size_t> deletions, Relocator& relocator, CommitTally& tally);
  void rename_messages(std::span<Rename> renames, Relocator& relocator, CommitTally& tally);
  Status rename_one(Rename& rename, Relocator& relocator);
  // True when a slot other than slots_[index] has the file `dir/name` (duplicate base names).
  bool taken_by_other(size_t index, Subdir dir, std::string_view name) const;
  // The keywords file as first read (null when it could not be read: a warning).
  const KeywordTable* keyword_table() const;

  fs::FileSystem& fs_;
  const std::string root_;
  const Kind kind_;
  fs::FileLockPtr lock_;
  // INBOX only, made by folders(). Declared after lock_, so it dies while the lock is held.
  std::unique_ptr<MaildirFolders> folders_;
  std::vector<MessageInfo> messages_;
  std::vector<Slot> slots_;
  // Where the names of the snapshot (and most UIDLs) live: the index file's bytes when the
  // index was trusted, else the names of the listings of new/ and cur/. Never modified after
  // open, so the views into them stay valid.
  fs::FileContents index_bytes_;
  std::string listed_names_[2];
  std::string_view arena_[2];
  std::string hashed_uidls_;     // UIDLs that are not a base name (uidl.h rules 2 and 3)
  std::string relocated_names_;  // names of files found again after they moved
  // What the snapshot's listing of new/ and cur/ was (written again by commit_update()).
  DirectoryStamp stamps_[2];
  // Directories with unlinks whose fsync has not succeeded yet; retried by the next commit.
  bool unsynced_[2] = {false, false};
  // new/ and cur/ held open for opening messages by name, from the first RETR or TOP on: a
  // session that only logs in holds no extra descriptors.
  fs::DirectoryPtr message_dirs_[2];
  // The keywords file, read by flags() on the first keyword letter it meets (most maildrops
  // have none, and a session that never asks for flags reads nothing), and replaced by the
  // table commit_update() wrote.
  mutable std::optional<KeywordTable> keywords_;
  mutable bool keywords_read_ = false;
};

}  // namespace poplar::store::maildir
