// MemoryFolders (memory_folders.h): the folder tree of one MemoryStore user.
//
// Must never: keep State::mutex while reading a foreign Maildrop's message; leave the tree half
// changed after an error (every check comes before the first change).
//
// Thread-safety: see the header.
#include "store/memory/memory_folders.h"

#include <utility>

#include "store/crlf_size.h"
#include "store/folder_name_rules.h"
#include "store/lf_line_ends.h"
#include "store/memory/memory_maildrop.h"

namespace poplar::store::memory {
namespace {

bool is_beneath(std::string_view name, std::string_view ancestor) {
  return name.size() > ancestor.size() && name.starts_with(ancestor) &&
         name[ancestor.size()] == kWireSeparator;
}

bool has_subfolders(const Tree& tree, std::string_view name) {
  auto it = tree.folders.upper_bound(name);
  return it != tree.folders.end() && is_beneath(it->first, name);
}

// Creates every missing folder from the top level down to `wire` (canonical, not INBOX).
void create_with_parents(Tree& tree, std::string_view wire) {
  for (size_t end = wire.find(kWireSeparator);; end = wire.find(kWireSeparator, end + 1)) {
    const std::string_view prefix = wire.substr(0, end);
    if (!tree.folders.contains(prefix)) {
      tree.folders.emplace(std::string(prefix), std::make_shared<Location>());
    }
    if (end == std::string_view::npos) {
      return;
    }
  }
}

// STOR's writer: the message is held here (a test store) and appears at commit().
class MemoryFolderWriter final : public FolderMessageWriter {
 public:
  MemoryFolderWriter(std::shared_ptr<State> state, std::string user, std::string folder,
                     MessageFlags flags)
      : state_(std::move(state)),
        user_(std::move(user)),
        folder_(std::move(folder)),
        flags_(std::move(flags)) {}

  Status write(std::string_view wire_chunk) override {
    if (done_) {
      return spent_;
    }
    converter_.convert(wire_chunk, &bytes_);
    return Status::ok();
  }

  Result<std::string> commit() override {
    if (done_) {
      return spent_;
    }
    done_ = true;
    converter_.finish(&bytes_);
    const uint64_t size = crlf_size_octets(bytes_);
    auto shared = std::make_shared<const std::string>(std::move(bytes_));
    std::lock_guard<std::mutex> guard(state_->mutex);
    auto tree = state_->trees.find(user_);
    LocationPtr place = tree == state_->trees.end() ? nullptr : find_folder(tree->second, folder_);
    if (!place) {
      spent_ = Status::not_found("the folder vanished before the message was stored");
      return spent_;
    }
    uidl_ = state_->fresh_uidl(*place);
    place->add(StoredMessage{uidl_, std::move(shared), size, flags_});
    return "memory:" + user_ + "/" + folder_ + "/" + uidl_;
  }

  uint64_t received_octets() const override { return converter_.input_octets(); }
  uint64_t stored_octets() const override { return converter_.output_octets(); }
  std::string_view uidl() const override { return uidl_; }

 private:
  std::shared_ptr<State> state_;
  std::string user_;
  std::string folder_;
  MessageFlags flags_;
  CrlfToLf converter_;
  std::string bytes_;
  std::string uidl_;
  bool done_ = false;
  // What every call after commit() returns: its error, or this after a success.
  Status spent_ = Status::invalid_input("message already committed");
};

}  // namespace

LocationPtr find_folder(Tree& tree, std::string_view wire) {
  if (wire == kInboxName) {
    return tree.inbox;
  }
  auto it = tree.folders.find(wire);
  return it == tree.folders.end() ? nullptr : it->second;
}

MemoryFolders::MemoryFolders(std::shared_ptr<State> state, std::string user)
    : state_(std::move(state)), user_(std::move(user)) {}

Result<std::vector<std::string>> MemoryFolders::list() {
  std::lock_guard<std::mutex> guard(state_->mutex);
  const Tree& tree = state_->trees[user_];
  std::vector<std::string> out;
  out.reserve(tree.folders.size() + 1);
  out.emplace_back(kInboxName);
  for (const auto& [name, place] : tree.folders) {
    out.push_back(name);
  }
  return out;
}

Result<FolderCounts> MemoryFolders::counts(std::string_view name) {
  Result<CheckedFolderName> checked = check_folder_name(name);
  if (!checked.is_ok()) {
    return checked.status();
  }
  if (checked->inbox) {
    return Status::invalid_input("INBOX is open: its numbers come from the session's snapshot");
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  LocationPtr place = find_folder(state_->trees[user_], checked->wire);
  if (!place) {
    return Status::not_found("no such folder");
  }
  if (place->locked) {
    return Status::in_use("folder is open in a session");
  }
  FolderCounts counts;
  for (const StoredMessage& m : place->messages) {
    ++counts.messages;
    counts.octets += m.size_octets;
  }
  return counts;
}

Result<MaildropPtr> MemoryFolders::open(std::string_view name) {
  Result<CheckedFolderName> checked = check_folder_name(name);
  if (!checked.is_ok()) {
    return checked.status();
  }
  if (checked->inbox) {
    return Status::invalid_input("INBOX is opened at login, not as a folder");
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  LocationPtr place = find_folder(state_->trees[user_], checked->wire);
  if (!place) {
    return Status::not_found("no such folder");
  }
  if (place->locked) {
    return Status::in_use("folder is open in a session");
  }
  place->locked = true;
  std::vector<StoredMessage> snapshot = place->messages;
  return MaildropPtr(
      std::make_unique<MemoryMaildrop>(state_, std::move(place), std::move(snapshot), ""));
}

Status MemoryFolders::create(std::string_view name) {
  Result<CheckedFolderName> checked = check_folder_name(name);
  if (!checked.is_ok()) {
    return checked.status();
  }
  if (checked->inbox) {
    return Status::invalid_input("folder INBOX already exists");
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  Tree& tree = state_->trees[user_];
  if (tree.folders.contains(checked->wire)) {
    return Status::invalid_input("folder already exists");
  }
  create_with_parents(tree, checked->wire);
  return Status::ok();
}

Status MemoryFolders::remove(std::string_view name) {
  Result<CheckedFolderName> checked = check_folder_name(name);
  if (!checked.is_ok()) {
    return checked.status();
  }
  if (checked->inbox) {
    return Status::invalid_input("folder INBOX cannot be deleted");
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  Tree& tree = state_->trees[user_];
  auto it = tree.folders.find(checked->wire);
  if (it == tree.folders.end()) {
    return Status::not_found("no such folder");
  }
  if (has_subfolders(tree, checked->wire)) {
    return Status::invalid_input("folder has subfolders");
  }
  if (!it->second->messages.empty()) {
    return Status::invalid_input("folder is not empty");
  }
  tree.folders.erase(it);
  return Status::ok();
}

Status MemoryFolders::rename(std::string_view from, std::string_view to) {
  Result<CheckedFolderName> old_name = check_folder_name(from);
  if (!old_name.is_ok()) {
    return old_name.status();
  }
  Result<CheckedFolderName> new_name = check_folder_name(to);
  if (!new_name.is_ok()) {
    return new_name.status();
  }
  if (old_name->inbox) {
    return Status::invalid_input("folder INBOX cannot be renamed");
  }
  if (new_name->inbox) {
    return Status::invalid_input("folder INBOX already exists");
  }
  const std::string& old_wire = old_name->wire;
  const std::string& new_wire = new_name->wire;
  if (new_wire == old_wire) {
    return Status::invalid_input("folder already has that name");
  }
  if (is_beneath(new_wire, old_wire)) {
    return Status::invalid_input("a folder cannot be moved beneath itself");
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  Tree& tree = state_->trees[user_];
  if (!tree.folders.contains(old_wire)) {
    return Status::not_found("no such folder");
  }
  // Plan every move first, so that a refusal changes nothing.
  std::vector<std::pair<std::string, std::string>> moves;
  for (auto it = tree.folders.find(old_wire);
       it != tree.folders.end() && (it->first == old_wire || is_beneath(it->first, old_wire));
       ++it) {
    std::string target = new_wire + it->first.substr(old_wire.size());
    if (!check_folder_name(target).is_ok()) {
      return Status::invalid_input("a subfolder's name would become too long or too deep");
    }
    if (tree.folders.contains(target)) {
      return Status::invalid_input(target == new_wire ? "folder already exists"
                                                      : "a subfolder's new name exists already");
    }
    moves.emplace_back(it->first, std::move(target));
  }
  std::vector<std::pair<std::string, LocationPtr>> moved;
  for (const auto& [source, target] : moves) {
    auto node = tree.folders.extract(source);
    moved.emplace_back(target, std::move(node.mapped()));
  }
  for (auto& [target, place] : moved) {
    tree.folders.emplace(target, std::move(place));
  }
  // Missing parents of the new name, as CFLD would make them.
  create_with_parents(tree, new_wire);
  return Status::ok();
}

Status MemoryFolders::move_under(std::string_view name, std::string_view parent) {
  Result<CheckedFolderName> checked = check_folder_name(name);
  if (!checked.is_ok()) {
    return checked.status();
  }
  if (checked->inbox) {
    return Status::invalid_input("folder INBOX cannot be moved");
  }
  const std::string leaf(folder_leaf(checked->wire));
  if (parent.empty()) {
    return rename(checked->wire, leaf);
  }
  Result<CheckedFolderName> parent_name = check_folder_name(parent);
  if (!parent_name.is_ok()) {
    return parent_name.status();
  }
  if (parent_name->inbox) {
    return Status::invalid_input("INBOX can hold no folders");
  }
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (!state_->trees[user_].folders.contains(parent_name->wire)) {
      return Status::not_found("no such parent folder");
    }
  }
  return rename(checked->wire, parent_name->wire + std::string(1, kWireSeparator) + leaf);
}

Status MemoryFolders::copy_message(Maildrop& source, size_t index, std::string_view target,
                                   const MessageFlags& flags) {
  Result<CheckedFolderName> checked = check_folder_name(target);
  if (!checked.is_ok()) {
    return checked.status();
  }
  if (index >= source.messages().size()) {
    return Status::invalid_input("message index out of range");
  }
  auto* ours = dynamic_cast<MemoryMaildrop*>(&source);
  StoredMessage copy;
  copy.flags = flags;
  if (ours == nullptr || !ours->same_store(*state_)) {
    // A foreign Maildrop: its bytes as its reader gives them, read before the store's mutex.
    Result<MessageReaderPtr> reader = source.open_message(index);
    if (!reader.is_ok()) {
      return reader.status();
    }
    std::string bytes;
    char buffer[16 * 1024];
    for (;;) {
      Result<size_t> n = (*reader)->read(buffer);
      if (!n.is_ok()) {
        return n.status();
      }
      if (*n == 0) {
        break;
      }
      bytes.append(buffer, *n);
    }
    copy.size_octets = crlf_size_octets(bytes);
    copy.bytes = std::make_shared<const std::string>(std::move(bytes));
  }
  std::lock_guard<std::mutex> guard(state_->mutex);
  LocationPtr place = find_folder(state_->trees[user_], checked->wire);
  if (!place) {
    return Status::not_found("no such folder");
  }
  if (ours != nullptr && ours->same_store(*state_)) {
    const StoredMessage& original = ours->stored(index);
    if (!ours->place()->contains(original.uidl)) {
      return Status::not_found("message " + original.uidl + " vanished");
    }
    copy.bytes = original.bytes;  // immutable, so shared
    copy.size_octets = original.size_octets;
  }
  copy.uidl = state_->fresh_uidl(*place);
  place->add(std::move(copy));
  return Status::ok();
}

Result<FolderMessageWriterPtr> MemoryFolders::begin_store(std::string_view target,
                                                          const MessageFlags& flags) {
  Result<CheckedFolderName> checked = check_folder_name(target);
  if (!checked.is_ok()) {
    return checked.status();
  }
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (!find_folder(state_->trees[user_], checked->wire)) {
      return Status::not_found("no such folder");
    }
  }
  return FolderMessageWriterPtr(
      std::make_unique<MemoryFolderWriter>(state_, user_, std::move(checked->wire), flags));
}

}  // namespace poplar::store::memory
