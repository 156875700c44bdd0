// In-RAM MailStore; see memory_store.h.
//
// Must never: hand a Maildrop a view into data another session can change: snapshots copy the
// message list and share each message's bytes immutably.
//
// Thread-safety: State is guarded by its mutex; Drop objects are used by one thread at a time.
#include "store/memory/memory_store.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "store/crlf_size.h"
#include "store/uidl_syntax.h"

namespace poplar::store::memory {
namespace {

struct StoredMessage {
  std::string uidl;
  std::shared_ptr<const std::string> bytes;  // shared with snapshots; never modified
  uint64_t size_octets;
  MessageFlags flags{};
};

struct Location {
  std::vector<StoredMessage> messages;
  std::unordered_set<std::string> uidls;  // of `messages`, so lookups stay O(1) at any size
  bool locked = false;

  bool contains(const std::string& uidl) const { return uidls.contains(uidl); }
  void add(StoredMessage message) {
    uidls.insert(message.uidl);
    messages.push_back(std::move(message));
  }
  template <typename Predicate>
  size_t remove_if(Predicate doomed) {
    return std::erase_if(messages, [&](const StoredMessage& m) {
      if (!doomed(m)) {
        return false;
      }
      uidls.erase(m.uidl);
      return true;
    });
  }
};

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

struct MemoryStore::State {
  std::mutex mutex;
  std::map<std::string, Location, std::less<>> locations;
  uint64_t next_uidl = 1;
};

class MemoryStore::Drop final : public Maildrop {
 public:
  Drop(std::shared_ptr<State> state, std::string location, std::vector<StoredMessage> snapshot)
      : state_(std::move(state)), location_(std::move(location)), snapshot_(std::move(snapshot)) {
    // The UIDL views point into snapshot_, which is never changed after this.
    infos_.reserve(snapshot_.size());
    for (const StoredMessage& m : snapshot_) {
      infos_.push_back(MessageInfo{m.size_octets, m.uidl});
    }
  }

  ~Drop() override {
    std::lock_guard<std::mutex> guard(state_->mutex);
    state_->locations[location_].locked = false;
  }

  const std::vector<MessageInfo>& messages() const override { return infos_; }

  Result<MessageReaderPtr> open_message(size_t index) override {
    if (index >= snapshot_.size()) {
      return Status::invalid_input("message index out of range");
    }
    // Like a Maildir file removed by another program: the snapshot still lists it, but the
    // store no longer has it.
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (!state_->locations[location_].contains(snapshot_[index].uidl)) {
      return Status::not_found("message " + snapshot_[index].uidl + " vanished");
    }
    return MessageReaderPtr(std::make_unique<StringReader>(snapshot_[index].bytes));
  }

  Status commit_update(std::span<const size_t> deletions) override {
    return commit_update(deletions, {});
  }

  MessageFlags flags(size_t index) const override {
    return index < snapshot_.size() ? snapshot_[index].flags : MessageFlags{};
  }

  Status commit_update(std::span<const size_t> deletions,
                       std::span<const FlagChange> changes) override {
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
    Location& place = state_->locations[location_];
    place.remove_if([&](const StoredMessage& m) { return doomed.contains(m.uidl); });
    // A message removed behind the session's back is skipped, like a vanished Maildir file.
    for (StoredMessage& m : place.messages) {
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

 private:
  std::shared_ptr<State> state_;
  std::string location_;
  std::vector<StoredMessage> snapshot_;
  std::vector<MessageInfo> infos_;
};

MemoryStore::MemoryStore() : state_(std::make_shared<State>()) {}
MemoryStore::~MemoryStore() = default;

std::string MemoryStore::add_message(const std::string& location, std::string bytes) {
  uint64_t size = crlf_size_octets(bytes);
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  std::lock_guard<std::mutex> guard(state_->mutex);
  Location& place = state_->locations[location];
  // Skip numbers a caller already used through add_message_with_uidl().
  std::string uidl;
  do {
    uidl = "m" + std::to_string(state_->next_uidl++);
  } while (place.contains(uidl));
  place.add(StoredMessage{uidl, std::move(shared), size});
  return uidl;
}

Status MemoryStore::add_message_with_uidl(const std::string& location, std::string uidl,
                                          std::string bytes) {
  if (!is_valid_uidl(uidl)) {
    return Status::invalid_input("UIDL must be 1-70 characters of 0x21-0x7E");
  }
  uint64_t size = crlf_size_octets(bytes);
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  std::lock_guard<std::mutex> guard(state_->mutex);
  Location& place = state_->locations[location];
  if (place.contains(uidl)) {
    return Status::invalid_input("UIDL already used: " + uidl);
  }
  place.add(StoredMessage{std::move(uidl), std::move(shared), size});
  return Status::ok();
}

bool MemoryStore::remove_message_for_test(const std::string& location, std::string_view uidl) {
  std::lock_guard<std::mutex> guard(state_->mutex);
  auto it = state_->locations.find(location);
  if (it == state_->locations.end()) {
    return false;
  }
  return it->second.remove_if([&](const StoredMessage& m) { return m.uidl == uidl; }) > 0;
}

std::vector<std::string> MemoryStore::uidls(const std::string& location) const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  std::vector<std::string> out;
  auto it = state_->locations.find(location);
  if (it != state_->locations.end()) {
    for (const StoredMessage& m : it->second.messages) {
      out.push_back(m.uidl);
    }
  }
  return out;
}

Result<MaildropPtr> MemoryStore::open_maildrop(const std::string& location) {
  if (location.empty()) {
    return Status::invalid_input("empty location");
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  Location& place = state_->locations[location];
  if (place.locked) {
    return Status::in_use("maildrop " + location + " is locked by another session");
  }
  place.locked = true;
  return MaildropPtr(std::make_unique<Drop>(state_, location, place.messages));
}

}  // namespace poplar::store::memory
