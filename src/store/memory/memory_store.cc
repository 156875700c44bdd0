// In-RAM MailStore; see memory_store.h. The Maildrops are memory_maildrop.h, the folder trees
// memory_folders.h; all of them share one State (memory_state.h).
//
// Must never: hand a Maildrop a view into data another session can change: snapshots copy the
// message list and share each message's bytes immutably.
//
// Thread-safety: State is guarded by its mutex.
#include "store/memory/memory_store.h"

#include <utility>

#include "store/crlf_size.h"
#include "store/folder_name_rules.h"
#include "store/memory/memory_folders.h"
#include "store/memory/memory_maildrop.h"
#include "store/memory/memory_state.h"
#include "store/uidl_syntax.h"

namespace poplar::store::memory {
namespace {

// The folder of a location the test hooks name, or nullptr. REQUIRES: state.mutex held.
LocationPtr find_for_test(State& state, std::string_view location, std::string_view folder) {
  auto tree = state.trees.find(location);
  if (tree == state.trees.end()) {
    return nullptr;
  }
  Result<CheckedFolderName> name = check_folder_name(folder);
  return name.is_ok() ? find_folder(tree->second, name->wire) : nullptr;
}

}  // namespace

MemoryStore::MemoryStore() : state_(std::make_shared<State>()) {}
MemoryStore::~MemoryStore() = default;

std::string MemoryStore::add_message(const std::string& location, std::string bytes) {
  uint64_t size = crlf_size_octets(bytes);
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  std::lock_guard<std::mutex> guard(state_->mutex);
  Location& place = *state_->trees[location].inbox;
  std::string uidl = state_->fresh_uidl(place);
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
  Location& place = *state_->trees[location].inbox;
  if (place.contains(uidl)) {
    return Status::invalid_input("UIDL already used: " + uidl);
  }
  place.add(StoredMessage{std::move(uidl), std::move(shared), size});
  return Status::ok();
}

bool MemoryStore::remove_message_for_test(const std::string& location, std::string_view uidl) {
  std::lock_guard<std::mutex> guard(state_->mutex);
  auto it = state_->trees.find(location);
  if (it == state_->trees.end()) {
    return false;
  }
  return it->second.inbox->remove_if([&](const StoredMessage& m) { return m.uidl == uidl; }) > 0;
}

std::vector<std::string> MemoryStore::uidls(const std::string& location) const {
  return uidls(location, kInboxName);
}

std::vector<std::string> MemoryStore::uidls(const std::string& location,
                                            std::string_view folder) const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  std::vector<std::string> out;
  if (LocationPtr place = find_for_test(*state_, location, folder)) {
    for (const StoredMessage& m : place->messages) {
      out.push_back(m.uidl);
    }
  }
  return out;
}

std::optional<MessageFlags> MemoryStore::flags_for_test(const std::string& location,
                                                        std::string_view folder,
                                                        std::string_view uidl) const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  if (LocationPtr place = find_for_test(*state_, location, folder)) {
    for (const StoredMessage& m : place->messages) {
      if (m.uidl == uidl) {
        return m.flags;
      }
    }
  }
  return std::nullopt;
}

Result<MaildropPtr> MemoryStore::open_maildrop(const std::string& location) {
  if (location.empty()) {
    return Status::invalid_input("empty location");
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  LocationPtr place = state_->trees[location].inbox;
  if (place->locked) {
    return Status::in_use("maildrop " + location + " is locked by another session");
  }
  place->locked = true;
  std::vector<StoredMessage> snapshot = place->messages;
  return MaildropPtr(
      std::make_unique<MemoryMaildrop>(state_, std::move(place), std::move(snapshot), location));
}

}  // namespace poplar::store::memory
