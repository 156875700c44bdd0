// POP4 COPY and MOVE (POP4.md "Folder commands", "When changes take effect"; docs/pop4.md):
//   COPY msgset folder   "+OK n copied"  copies now, each with the flags it will have after UPDATE
//   MOVE msgset folder   "+OK n moved"   copies now, marks the originals deleted (removed at
//                                        UPDATE, like DELE; RSET unmarks them, the copies stay)
// on store::Folders of the INBOX maildrop. The target may be INBOX or any folder; COPY may
// name the selected folder (the copies show in its next snapshot), MOVE may not. Valid only in
// TRANSACTION with the FOLDERS ability on (command_table.cc).
//
// Errors before anything is copied change nothing: syntax (counted as bad commands), a message
// that does not exist or is marked deleted, a target that is not a folder (checked before the
// first copy). A store failure after k of n copies cannot take the k copies back cheaply (and
// they destroy nothing): the command stops there and answers "-ERR [code] ... (k of n copied)";
// MOVE then marks nothing, so every original stays where it was.
//
// Must never: destroy or change a message before QUIT (copies are new messages; MOVE only
// marks), or renumber the selected folder.
// Thread-safety: not thread-safe; part of SessionCore.
#include <string>

#include "base/ascii.h"
#include "base/log.h"
#include "pop3/server_session_impl.h"

namespace poplar::pop3 {

// COPY and MOVE share one body; command.command tells them apart.
void SessionCore::handle_move(const ParsedCommand& command) { handle_copy(command); }

void SessionCore::handle_copy(const ParsedCommand& command) {
  const bool move = command.command == Command::kMove;
  const std::string_view what = move ? "move" : "copy";
  Pop4Arguments args(command.args.first, utf8_);
  Result<MessageSet> set = args.message_set();
  if (!set.is_ok()) {
    reject_command(set.status().message());
    return;
  }
  Result<std::string> target = args.folder();
  if (!target.is_ok()) {
    reject_command(target.status().message());
    return;
  }
  if (Status end = args.finish(); !end.is_ok()) {
    reject_command(end.message());
    return;
  }
  store::Folders* folders = open_folders_.front()->maildrop->folders();
  if (folders == nullptr) {
    reply_err("This mailbox has no folders.", ResponseCode::kSysPerm);
    return;
  }
  std::optional<std::vector<MessageIndex>> indexes = resolve_message_set(*set);
  if (!indexes) {
    return;
  }

  // The target must exist before the first copy: a typo must not leave copies behind. INBOX
  // and the open folders exist (their locks are held; counts() refuses those); any other name
  // is asked of the store, which also explains a malformed one.
  std::string name = std::move(target).value();
  if (ascii_iequals(name, "INBOX")) {
    name = "INBOX";
  }
  bool open = false;
  for (const auto& folder : open_folders_) {
    open = open || folder->name == name;
  }
  if (!open) {
    Result<store::FolderCounts> counts = folders->counts(name);
    if (!counts.is_ok() && counts.status().code() != ErrorCode::kInUse) {
      reply_store_error(counts.status(), what);
      return;
    }
  }
  if (move && name == selected_->name) {
    reply_err("Messages cannot be moved into the folder they are in.");
    return;
  }

  size_t copied = 0;
  for (MessageIndex index : *indexes) {
    Status status = folders->copy_message(drop(), index.value, name, flags_after_update(index));
    if (status.is_ok()) {
      ++copied;
      continue;
    }
    // The target was there a moment ago: kNotFound now means the message vanished.
    const Operation operation =
        status.code() == ErrorCode::kNotFound ? Operation::kReadMessage : Operation::kFolder;
    WireError error = map_error(status.code(), operation);
    if (!error.text.empty() && error.code != ResponseCode::kNone) {  // system trouble
      log::warning("folder-command-failed")
          .kv("user", log_user())
          .kv("rip", remote_ip_)
          .kv("command", what)
          .kv("msg", index.value + 1)
          .kv("copied", static_cast<uint64_t>(copied))
          .kv("reason", status.to_string());
    }
    std::string text(error.text.empty() ? std::string_view(status.message()) : error.text);
    if (copied > 0) {
      text += " (" + std::to_string(copied) + " of " + std::to_string(indexes->size()) + " copied" +
              (move ? ", none marked)" : ")");
    }
    reply_err(text, error.code);
    return;
  }

  if (move) {
    for (MessageIndex index : *indexes) {
      deleted()[index.value] = true;  // removed at UPDATE, like DELE; RSET unmarks
      --live_count_;
      live_octets_ -= drop().messages()[index.value].size_octets;
    }
    reply_ok(std::to_string(copied) + " moved");
    return;
  }
  reply_ok(std::to_string(copied) + " copied");
}

}  // namespace poplar::pop3
