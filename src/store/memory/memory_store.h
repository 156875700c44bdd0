// MemoryStore: a MailStore held in RAM, for unit tests of the layers above (pop3 transcripts,
// server wiring) and micro-benchmarks. It follows the Maildir backend's semantics exactly:
// one exclusive lock per location (a second open gets kInUse until the first Maildrop dies),
// snapshots fixed at open, sizes by the shared CRLF rule (store/crlf_size.h), commit_update()
// that removes exactly the given messages and sets the given flags (any number of keywords) and
// can be repeated. A location never used before is an empty maildrop, like a new user's Maildir.
// The INBOX Maildrop of a location offers the location's POP4 folders (Maildrop::folders(),
// memory_folders.h); a new location has none but INBOX.
//
// Usage:
//   store::memory::MemoryStore store;
//   store.add_message("alice", "Subject: hi\n\nhello\n");
//   Result<MaildropPtr> drop = store.open_maildrop("alice");
//
// Must never: persist anything; share message bytes between locations.
//
// Thread-safety: every method of MemoryStore is safe from any thread (one mutex). A Maildrop
// it returns is used by one thread at a time and may outlive the store.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/maildrop.h"

namespace poplar::store::memory {

struct State;  // memory_state.h

class MemoryStore final : public MailStore {
 public:
  MemoryStore();
  ~MemoryStore() override;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // Appends a message to the location (creating it) and returns its UIDL, "m<number>", unique
  // in this store. Like a delivery: sessions already open do not see it.
  std::string add_message(const std::string& location, std::string bytes);

  // Same with a chosen UIDL. Errors: kInvalidInput (not 1–70 characters of 0x21–0x7E, or
  // already used in this location).
  Status add_message_with_uidl(const std::string& location, std::string uidl, std::string bytes);

  // Removes a message behind the sessions' backs, as another program deleting a Maildir file
  // would: open_message() of it then fails with kNotFound. Returns false if there was none.
  bool remove_message_for_test(const std::string& location, std::string_view uidl);

  // The UIDLs currently stored at the location (its INBOX), in order.
  std::vector<std::string> uidls(const std::string& location) const;
  // The same for one folder of the location ("INBOX" in any case, or a folder's wire name);
  // empty when there is no such folder.
  std::vector<std::string> uidls(const std::string& location, std::string_view folder) const;
  // The flags a message of a folder has now (not as a snapshot shows them); nullopt when the
  // folder or the message does not exist.
  std::optional<MessageFlags> flags_for_test(const std::string& location, std::string_view folder,
                                             std::string_view uidl) const;

  // Errors: kInUse (a Maildrop of this location is alive), kInvalidInput (empty location).
  Result<MaildropPtr> open_maildrop(const std::string& location) override;

 private:
  // Shared with the Maildrops (memory_maildrop.h), which may outlive the store.
  std::shared_ptr<State> state_;
};

}  // namespace poplar::store::memory
