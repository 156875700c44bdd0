// MemoryMaildrop (memory_maildrop.h): a locked snapshot of one folder of a MemoryStore.
//
// Must never: keep State::mutex while calling out of this file.
//
// Thread-safety: see the header.
#include "store/memory/memory_maildrop.h"

#include <cstring>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "store/memory/memory_folders.h"

namespace poplar::store::memory {
namespace {

class StringReader final : public MessageReader {
 public:
  explicit StringReader(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}

  Result<size_t> read(std::span<char> out) override {
    size_t n = std::min(out.size(), bytes_->size() - offset_);
    std::memcpy(out.data(), bytes_->data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  size_t offset_ = 0;
};

}  // namespace

MemoryMaildrop::MemoryMaildrop(std::shared_ptr<State> state, LocationPtr place,
                               std::vector<StoredMessage> snapshot, std::string user)
    : state_(std::move(state)), place_(std::move(place)), snapshot_(std::move(snapshot)) {
  // The UIDL views point into snapshot_, which never changes size after this.
  infos_.reserve(snapshot_.size());
  for (const StoredMessage& m : snapshot_) {
    infos_.push_back(MessageInfo{m.size_octets, m.uidl});
  }
  if (!user.empty()) {
    folders_ = std::make_unique<MemoryFolders>(state_, std::move(user));
  }
}

MemoryMaildrop::~MemoryMaildrop() {
  folders_.reset();
  std::lock_guard<std::mutex> guard(state_->mutex);
  place_->locked = false;
}

Result<MessageReaderPtr> MemoryMaildrop::open_message(size_t index) {
  if (index >= snapshot_.size()) {
    return Status::invalid_input("message index out of range");
  }
  // Like a Maildir file removed by another program: the snapshot still lists it, but the
  // store no longer has it.
  std::lock_guard<std::mutex> guard(state_->mutex);
  if (!place_->contains(snapshot_[index].uidl)) {
    return Status::not_found("message " + snapshot_[index].uidl + " vanished");
  }
  return MessageReaderPtr(std::make_unique<StringReader>(snapshot_[index].bytes));
}

Status MemoryMaildrop::commit_update(std::span<const size_t> deletions) {
  return commit_update(deletions, {});
}

MessageFlags MemoryMaildrop::flags(size_t index) const {
  return index < snapshot_.size() ? snapshot_[index].flags : MessageFlags{};
}

Status MemoryMaildrop::commit_update(std::span<const size_t> deletions,
                                     std::span<const FlagChange> changes) {
  std::unordered_set<std::string_view> doomed;
  for (size_t index : deletions) {
    if (index >= snapshot_.size()) {
      return Status::invalid_input("message index out of range");
    }
    doomed.insert(snapshot_[index].uidl);
  }
  std::unordered_map<std::string_view, const MessageFlags*> changed;  // the last change counts
  for (const FlagChange& change : changes) {
    if (change.index >= snapshot_.size()) {
      return Status::invalid_input("message index out of range");
    }
    if (!doomed.contains(snapshot_[change.index].uidl)) {
      changed[snapshot_[change.index].uidl] = &change.flags;
    }
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  place_->remove_if([&](const StoredMessage& m) { return doomed.contains(m.uidl); });
  // A message removed behind the session's back is skipped, like a vanished Maildir file.
  for (StoredMessage& m : place_->messages) {
    if (auto it = changed.find(m.uidl); it != changed.end()) {
      m.flags = *it->second;
    }
  }
  for (StoredMessage& m : snapshot_) {  // flags() shows what the store now holds
    if (auto it = changed.find(m.uidl); it != changed.end()) {
      m.flags = *it->second;
    }
  }
  return Status::ok();
}

Folders* MemoryMaildrop::folders() { return folders_.get(); }

}  // namespace poplar::store::memory
