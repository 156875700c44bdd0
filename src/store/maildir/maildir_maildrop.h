// MaildirMaildrop: one opened Maildir (see maildir_store.h for the user's view). Internal to
// store/maildir; the rest of Poplar sees it only as a store::Maildrop.
//
// What it keeps per message is small and allocation-free apart from the UIDL string: file names
// stay in the directory listings, so a snapshot of 100,000 messages costs a few large
// allocations, not hundreds of thousands of small ones.
//
// Must never: read a body whose size is known (",W=" field or index); unlink a file that was
// not asked for; hold the lock after a failed open (the lock is a member, released when the
// half-built object dies).
//
// Thread-safety: one thread at a time (Maildrop contract).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/fs/file_system.h"
#include "store/maildir/index_file.h"
#include "store/maildrop.h"

namespace poplar::store::maildir {

class MaildirMaildrop final : public Maildrop {
 public:
  // Creates the Maildir if missing, locks it and takes the snapshot. `root` has no trailing
  // slash. Errors: see MaildirStore::open_maildrop.
  static Result<MaildropPtr> open(fs::FileSystem& fs, std::string root);

  MaildirMaildrop(const MaildirMaildrop&) = delete;
  MaildirMaildrop& operator=(const MaildirMaildrop&) = delete;

  const std::vector<MessageInfo>& messages() const override { return messages_; }
  Result<MessageReaderPtr> open_message(size_t index) override;
  Status commit_update(std::span<const size_t> deletions) override;

 private:
  // Where a message file lives: indexes into kSubdirNames.
  enum Subdir : uint8_t { kNew = 0, kCur = 1 };

  // Per message, parallel to messages_. 12 bytes: the name itself stays in the directory
  // listing it came from (or in relocated_names_ once the file was found under a new name).
  struct Slot {
    uint32_t name_offset;  // into listings_[dir] or relocated_names_
    uint16_t name_length;  // NAME_MAX is 255
    uint16_t base_length;  // the base name is a prefix of the name
    Subdir dir;
    bool relocated;  // the name lives in relocated_names_
    bool indexed;    // its size belongs in the index file (no ",W=", base name unique)
    bool removed;    // commit_update() removed it (or found it gone)
  };

  struct Candidate;
  class Relocator;

  MaildirMaildrop(fs::FileSystem& fs, std::string root) : fs_(fs), root_(std::move(root)) {}

  // The steps of open(), in order.
  Result<bool> create_if_missing();  // true: it was missing and is now created, empty
  Status lock_and_load();
  Status list_or_create(Subdir dir, fs::DirectoryListing* out);
  Status collect_candidates(std::vector<Candidate>* candidates, bool* need_index);
  void sort_candidates(std::vector<Candidate>* candidates) const;
  Status build_snapshot(const std::vector<Candidate>& candidates, const IndexContents& index,
                        bool index_corrupt);
  void rewrite_index();

  std::string_view name_of(const Candidate& c) const;
  std::string_view base_of(const Candidate& c) const;

  std::string_view arena_of(const Slot& slot) const {
    return slot.relocated ? std::string_view(relocated_names_) : listings_[slot.dir].names();
  }
  std::string_view name_of(const Slot& slot) const {
    return arena_of(slot).substr(slot.name_offset, slot.name_length);
  }
  std::string_view base_of(const Slot& slot) const {
    return arena_of(slot).substr(slot.name_offset, slot.base_length);
  }
  std::string subdir_path(Subdir dir) const;
  std::string path_of(Subdir dir, std::string_view name) const;
  std::string path_of(const Slot& slot) const { return path_of(slot.dir, name_of(slot)); }
  // Points the slot at the name its file has now (after a move new/ → cur/ or a flag change).
  Status relocate(Slot& slot, Subdir dir, std::string_view name);
  // Finds the file of slots_[index] again after its recorded name vanished. Returns false when
  // no file with its base name is left.
  Result<bool> find_moved(Relocator& relocator, size_t index);

  fs::FileSystem& fs_;
  const std::string root_;
  fs::FileLockPtr lock_;
  std::vector<MessageInfo> messages_;
  std::vector<Slot> slots_;
  // The listings of new/ and cur/ taken at open: they hold the file names of the snapshot.
  fs::DirectoryListing listings_[2];
  std::string relocated_names_;  // names of files found again after they moved
  // Directories with unlinks whose fsync has not succeeded yet; retried by the next commit.
  bool unsynced_[2] = {false, false};
};

}  // namespace poplar::store::maildir
