// MemoryFolders: POP4 FOLDERS (store/folders.h) over a MemoryStore, for the tests of the layers
// above (pop3 transcripts, server wiring). It follows the Maildir backend's semantics: the same
// name rules (store/folder_name_rules.h), INBOX first and the rest bytewise, parents created
// with a folder, a folder with messages or subfolders never removed, renames of whole subtrees,
// a lock per folder (open() of an open folder is kInUse), copies and STORs that are new
// messages with fresh UIDLs "m<n>" and exactly the flags given. Unlike a Maildir, any number
// of keywords fits (never kLimit), and a folder can be renamed while a Maildrop of it is open
// (that Maildrop keeps its snapshot and lock).
//
// Must never: destroy a message (remove() refuses a folder holding one); change the source of
// a copy; make a STORed message visible before its writer's commit().
//
// Thread-safety: used by one thread at a time (Folders' contract); it takes the store's mutex
// for every access to the shared state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/folders.h"
#include "store/memory/memory_state.h"

namespace poplar::store::memory {

class MemoryFolders final : public Folders {
 public:
  // `user` is the location whose INBOX Maildrop owns this object.
  MemoryFolders(std::shared_ptr<State> state, std::string user);

  Result<std::vector<std::string>> list() override;
  Result<FolderCounts> counts(std::string_view name) override;
  Result<MaildropPtr> open(std::string_view name) override;
  Status create(std::string_view name) override;
  Status remove(std::string_view name) override;
  Status rename(std::string_view from, std::string_view to) override;
  Status move_under(std::string_view name, std::string_view parent) override;
  Status copy_message(Maildrop& source, size_t index, std::string_view target,
                      const MessageFlags& flags) override;
  Result<FolderMessageWriterPtr> begin_store(std::string_view target,
                                             const MessageFlags& flags) override;

 private:
  std::shared_ptr<State> state_;
  std::string user_;
};

// The folder's Location in the tree, or nullptr. `wire` is canonical (check_folder_name());
// "INBOX" is the tree's inbox. REQUIRES: state.mutex held.
LocationPtr find_folder(Tree& tree, std::string_view wire);

}  // namespace poplar::store::memory
