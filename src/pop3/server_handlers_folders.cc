// POP4 FOLDERS handlers (POP4.md "Folder commands"; docs/pop4.md): LFLD, SFLD, CFLD, DFLD,
// RENF, MOVF, COPY, MOVE, STOR, on store::Folders of the INBOX maildrop. Valid only in
// TRANSACTION with the FOLDERS ability on (command_table.cc).
//
// Must never: destroy a message before QUIT (MOVE only marks its originals; DFLD refuses a
// folder that holds mail), change anything when a command fails, or renumber the selected
// folder (numbers are fixed while it stays selected).
// Thread-safety: not thread-safe; part of SessionCore.
#include <utility>

#include "base/log.h"
#include "pop3/server_session_impl.h"

namespace poplar::pop3 {

std::optional<std::vector<MessageIndex>> SessionCore::resolve_message_set(const MessageSet& set) {
  // Both ends of every range are checked before anything is walked, so "1:4000000000" costs
  // nothing; the walk is then bounded by the folder's size.
  const size_t count = deleted().size();
  for (const MessageRange& range : set.ranges) {
    if (range.last.value > count) {
      reply_err(kNoSuchMessage);
      return std::nullopt;
    }
  }
  std::vector<bool> chosen(count, false);
  for (const MessageRange& range : set.ranges) {
    for (uint64_t n = range.first.value; n <= range.last.value; ++n) {
      const size_t index = static_cast<size_t>(n - 1);
      if (deleted()[index]) {
        reply_err("Message " + std::to_string(n) + " is deleted.");
        return std::nullopt;
      }
      chosen[index] = true;
    }
  }
  std::vector<MessageIndex> indexes;
  for (size_t i = 0; i < count; ++i) {
    if (chosen[i]) {
      indexes.push_back(MessageIndex{i});
    }
  }
  return indexes;
}

void SessionCore::reply_store_error(const Status& status, std::string_view what) {
  WireError error = map_error(status.code(), Operation::kFolder);
  if (!error.text.empty() && error.code != ResponseCode::kNone &&
      error.code != ResponseCode::kInUse) {
    log::warning("folder-command-failed")
        .kv("user", log_user())
        .kv("rip", remote_ip_)
        .kv("command", what)
        .kv("reason", status.to_string());
  }
  reply_err(error.text.empty() ? std::string_view(status.message()) : error.text, error.code);
}

void SessionCore::select_folder(OpenFolder* folder) {
  OpenFolder* previous = selected_;
  selected_ = folder;
  structure_cache_.reset();  // PART's cache names a message by its number in a folder
  if (previous != nullptr && previous != folder && previous != open_folders_.front().get() &&
      !previous->has_marks()) {
    // Nothing waits for UPDATE there: release its lock and snapshot now.
    for (auto it = open_folders_.begin(); it != open_folders_.end(); ++it) {
      if (it->get() == previous) {
        open_folders_.erase(it);
        break;
      }
    }
  }
  if (deleted().size() != drop().messages().size()) {
    deleted().assign(drop().messages().size(), false);
  }
  recount();
}

void SessionCore::handle_lfld(const ParsedCommand&) { reply_err("LFLD is not built yet."); }
void SessionCore::handle_sfld(const ParsedCommand&) { reply_err("SFLD is not built yet."); }
void SessionCore::handle_cfld(const ParsedCommand&) { reply_err("CFLD is not built yet."); }
void SessionCore::handle_dfld(const ParsedCommand&) { reply_err("DFLD is not built yet."); }
void SessionCore::handle_renf(const ParsedCommand&) { reply_err("RENF is not built yet."); }
void SessionCore::handle_movf(const ParsedCommand&) { reply_err("MOVF is not built yet."); }
void SessionCore::handle_stor(const ParsedCommand&) { reply_err("STOR is not built yet."); }

}  // namespace poplar::pop3
