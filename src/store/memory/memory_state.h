// The shared state of a MemoryStore (memory_store.h): every user's folder tree with its
// messages, and the locks that sessions hold on them. Internal to store/memory.
//
// Must never: be touched without State::mutex held; hand out message bytes that can change
// (a message's bytes are immutable and shared with every snapshot that lists it).
//
// Thread-safety: guarded by State::mutex; the structs themselves are plain data.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "store/message_flags.h"

namespace poplar::store::memory {

struct StoredMessage {
  std::string uidl;
  std::shared_ptr<const std::string> bytes;  // shared with snapshots; never modified
  uint64_t size_octets = 0;
  MessageFlags flags{};
};

// One folder's messages (INBOX or another) and its session lock.
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
// Shared so that a Maildrop keeps its folder's Location (and releases its lock there) even if
// the folder is renamed meanwhile.
using LocationPtr = std::shared_ptr<Location>;

// One user's maildrop: INBOX and the other folders by canonical wire name. std::string's
// ordering is bytewise (unsigned), the order Folders::list() promises.
struct Tree {
  LocationPtr inbox = std::make_shared<Location>();
  std::map<std::string, LocationPtr, std::less<>> folders;
};

struct State {
  std::mutex mutex;
  std::map<std::string, Tree, std::less<>> trees;
  uint64_t next_uidl = 1;

  // A UIDL "m<number>" unique in this store, skipping numbers a caller chose itself
  // (MemoryStore::add_message_with_uidl). REQUIRES: mutex held.
  std::string fresh_uidl(const Location& place) {
    std::string uidl;
    do {
      uidl = "m" + std::to_string(next_uidl++);
    } while (place.contains(uidl));
    return uidl;
  }
};

}  // namespace poplar::store::memory
