// MemoryMaildrop: the Maildrop a MemoryStore returns (memory_store.h): a snapshot of one
// folder's messages taken under the folder's lock, which it releases when destroyed. The INBOX
// one owns the user's Folders (memory_folders.h); a folder's own (Folders::open()) has none.
//
// Must never: hand out a view into data another session can change (the snapshot copies the
// message list and shares each message's bytes immutably); change the store except in
// commit_update().
//
// Thread-safety: used by one thread at a time; it takes the store's mutex for every access to
// the shared state, so it may outlive the MemoryStore.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "store/maildrop.h"
#include "store/memory/memory_state.h"

namespace poplar::store::memory {

class MemoryFolders;

class MemoryMaildrop final : public Maildrop {
 public:
  // REQUIRES: `place` is locked for this Maildrop. `user` names the tree for folders(); empty
  // for a folder's Maildrop, which has none.
  MemoryMaildrop(std::shared_ptr<State> state, LocationPtr place,
                 std::vector<StoredMessage> snapshot, std::string user);
  ~MemoryMaildrop() override;
  MemoryMaildrop(const MemoryMaildrop&) = delete;
  MemoryMaildrop& operator=(const MemoryMaildrop&) = delete;

  const std::vector<MessageInfo>& messages() const override { return infos_; }
  Result<MessageReaderPtr> open_message(size_t index) override;
  Status commit_update(std::span<const size_t> deletions) override;
  MessageFlags flags(size_t index) const override;
  Status commit_update(std::span<const size_t> deletions,
                       std::span<const FlagChange> changes) override;
  Folders* folders() override;

  // For Folders::copy_message: the message as the snapshot holds it, and whether it belongs to
  // this store (a Maildrop of another MemoryStore is foreign).
  // REQUIRES: index < messages().size().
  const StoredMessage& stored(size_t index) const { return snapshot_[index]; }
  const LocationPtr& place() const { return place_; }
  bool same_store(const State& state) const { return state_.get() == &state; }

 private:
  std::shared_ptr<State> state_;
  LocationPtr place_;
  std::vector<StoredMessage> snapshot_;
  std::vector<MessageInfo> infos_;
  std::unique_ptr<MemoryFolders> folders_;  // INBOX only
};

}  // namespace poplar::store::memory
