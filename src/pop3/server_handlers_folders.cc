// POP4 FOLDERS handlers (POP4.md "Folder commands"; docs/pop4.md): LFLD, SFLD, CFLD, DFLD,
// RENF, MOVF, STOR, on store::Folders of the INBOX maildrop (COPY and MOVE are in
// server_handlers_copy.cc). Valid only in TRANSACTION with the FOLDERS ability on
// (command_table.cc).
//   LFLD                  "+OK N folders", "name messages octets" per folder, "."
//   SFLD folder           "+OK messages octets" of the folder now selected
//   CFLD folder           creates it and its missing parents
//   DFLD folder           deletes an empty folder (not INBOX, not selected, none with marks)
//   RENF folder newname   renames it and everything beneath it (not INBOX, none of it open)
//   MOVF folder parent    moves it under parent ("" for the top level)
//   STOR folder [(flags)] "+ send message", the dot-stuffed message, "+OK uidl"
// Every error comes before any +OK and changes nothing; syntax errors count as bad commands.
//
// Must never: destroy a message before QUIT (MOVE only marks its originals; DFLD refuses a
// folder that holds mail), change anything when a command fails, renumber the selected
// folder (numbers are fixed while it stays selected), hold a STORed message in memory, or
// buffer LFLD's whole answer (a producer writes it a watermark at a time).
// Thread-safety: not thread-safe; part of SessionCore.
#include <algorithm>
#include <functional>
#include <utility>

#include "base/ascii.h"
#include "base/log.h"
#include "pop3/server_session_impl.h"

namespace poplar::pop3 {
namespace {

bool is_inbox(std::string_view name) { return ascii_iequals(name, "INBOX"); }

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// LFLD's lines after its +OK: one per folder, its numbers asked for only when its line is
// due, so that neither the output nor the counting runs ahead of the client. `counts` answers
// for one name (the session's snapshots for open folders, the store for the others); a folder
// that vanished since the listing (another program removed it) is left out.
class FolderListProducer final : public ReplyProducer {
 public:
  using Counter = std::function<Result<store::FolderCounts>(const std::string&)>;
  FolderListProducer(std::vector<std::string> names, Counter counts)
      : names_(std::move(names)), counts_(std::move(counts)) {}

  Result<bool> produce(std::string& out, size_t target_octets) override {
    while (next_ < names_.size()) {
      if (out.size() >= target_octets) {
        return false;
      }
      const std::string& name = names_[next_++];
      Result<store::FolderCounts> counts = counts_(name);
      if (!counts.is_ok()) {
        if (counts.status().code() == ErrorCode::kNotFound) {
          continue;
        }
        return counts.status();
      }
      out += quote_folder_name(name);
      out += ' ';
      out += std::to_string(counts->messages);
      out += ' ';
      out += std::to_string(counts->octets);
      out += "\r\n";
    }
    out += ".\r\n";
    return true;
  }

 private:
  std::vector<std::string> names_;
  Counter counts_;
  size_t next_ = 0;
};

}  // namespace

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

store::Folders* SessionCore::folders_or_reply() {
  store::Folders* folders = open_folders_.front()->maildrop->folders();
  if (folders == nullptr) {
    reply_err("This mailbox has no folders.", ResponseCode::kSysPerm);
  }
  return folders;
}

SessionCore::OpenFolder* SessionCore::open_folder_named(std::string_view name) {
  if (is_inbox(name)) {
    return open_folders_.front().get();
  }
  for (auto& folder : open_folders_) {
    if (folder->name == name) {
      return folder.get();
    }
  }
  return nullptr;
}

std::optional<std::string> SessionCore::read_one_folder(const ParsedCommand& command) {
  Pop4Arguments args(command.args.first, utf8_);
  Result<std::string> name = args.folder();
  if (!name.is_ok()) {
    reject_command(name.status().message());
    return std::nullopt;
  }
  if (Status end = args.finish(); !end.is_ok()) {
    reject_command(end.message());
    return std::nullopt;
  }
  return std::move(name).value();
}

bool SessionCore::open_at_or_beneath(std::string_view name) const {
  for (size_t i = 1; i < open_folders_.size(); ++i) {
    const std::string& open = open_folders_[i]->name;
    if (open == name ||
        (open.size() > name.size() && open.starts_with(name) && open[name.size()] == '/')) {
      return true;
    }
  }
  return false;
}

void SessionCore::log_folder_change(std::string_view event, std::string_view name) {
  log::info(event).kv("user", log_user()).kv("rip", remote_ip_).kv("folder", name);
}

void SessionCore::handle_lfld(const ParsedCommand&) {
  store::Folders* folders = folders_or_reply();
  if (folders == nullptr) {
    return;
  }
  Result<std::vector<std::string>> listed = folders->list();
  if (!listed.is_ok()) {
    reply_store_error(listed.status(), "lfld");
    return;
  }
  std::vector<std::string> names = std::move(listed).value();
  if (!utf8_) {
    // RFC 6856 §3: no UTF-8 to a client that did not ask for it; such a client could not
    // name these folders anyway.
    std::erase_if(names, [](const std::string& name) { return !is_ascii(name); });
  }
  reply_ok(plural(names.size(), "folder"));
  start_stream(StreamKind::kList, std::make_unique<FolderListProducer>(
                                      std::move(names), [this, folders](const std::string& name) {
                                        // Open folders (INBOX, the selected one, those with marks)
                                        // are counted from the session's snapshots as STAT would
                                        // count them; the store refuses them (their locks are
                                        // held).
                                        if (const OpenFolder* open = open_folder_named(name)) {
                                          store::FolderCounts counts;
                                          const auto& messages = open->maildrop->messages();
                                          for (size_t i = 0; i < messages.size(); ++i) {
                                            if (i >= open->deleted.size() || !open->deleted[i]) {
                                              ++counts.messages;
                                              counts.octets += messages[i].size_octets;
                                            }
                                          }
                                          return Result<store::FolderCounts>(counts);
                                        }
                                        return folders->counts(name);
                                      }));
}

void SessionCore::handle_sfld(const ParsedCommand& command) {
  std::optional<std::string> name = read_one_folder(command);
  if (!name) {
    return;
  }
  store::Folders* folders = folders_or_reply();
  if (folders == nullptr) {
    return;
  }
  OpenFolder* folder = open_folder_named(*name);
  if (folder == nullptr) {
    // The folder selected now closes when it is left without marks; count it out.
    const bool previous_closes =
        selected_ != open_folders_.front().get() && !selected_->has_marks();
    if (open_folders_.size() - (previous_closes ? 1 : 0) >= kMaxOpenFolders) {
      reply_err("Too many folders with changes waiting for QUIT.", ResponseCode::kSysPerm);
      return;
    }
    Result<store::MaildropPtr> opened = folders->open(*name);
    if (!opened.is_ok()) {
      reply_store_error(opened.status(), "sfld");
      return;
    }
    auto added = std::make_unique<OpenFolder>();
    added->name = std::move(*name);
    added->maildrop = std::move(opened).value();
    added->deleted.assign(added->maildrop->messages().size(), false);
    folder = added.get();
    open_folders_.push_back(std::move(added));
  }
  select_folder(folder);
  reply_ok(std::to_string(live_count_) + " " + std::to_string(live_octets_));
}

void SessionCore::handle_cfld(const ParsedCommand& command) {
  std::optional<std::string> name = read_one_folder(command);
  if (!name) {
    return;
  }
  store::Folders* folders = folders_or_reply();
  if (folders == nullptr) {
    return;
  }
  if (Status status = folders->create(*name); !status.is_ok()) {
    reply_store_error(status, "cfld");
    return;
  }
  log_folder_change("folder-created", *name);
  reply_ok("Folder created.");
}

void SessionCore::handle_dfld(const ParsedCommand& command) {
  std::optional<std::string> name = read_one_folder(command);
  if (!name) {
    return;
  }
  store::Folders* folders = folders_or_reply();
  if (folders == nullptr) {
    return;
  }
  if (!is_inbox(*name)) {
    if (const OpenFolder* open = open_folder_named(*name)) {
      reply_err(open == selected_ ? "The selected folder cannot be deleted; select another."
                                  : "Folder has changes waiting for QUIT.");
      return;
    }
  }
  if (Status status = folders->remove(*name); !status.is_ok()) {
    reply_store_error(status, "dfld");
    return;
  }
  log_folder_change("folder-deleted", *name);
  reply_ok("Folder deleted.");
}

void SessionCore::handle_renf(const ParsedCommand& command) {
  Pop4Arguments args(command.args.first, utf8_);
  Result<std::string> from = args.folder();
  Result<std::string> to = from.is_ok() ? args.folder() : from;
  if (!to.is_ok()) {
    reject_command(to.status().message());
    return;
  }
  if (Status end = args.finish(); !end.is_ok()) {
    reject_command(end.message());
    return;
  }
  rename_folder(*from, *to, false);
}

void SessionCore::handle_movf(const ParsedCommand& command) {
  Pop4Arguments args(command.args.first, utf8_);
  Result<std::string> name = args.folder();
  Result<std::string> parent = name.is_ok() ? args.folder() : name;
  if (!parent.is_ok()) {
    reject_command(parent.status().message());
    return;
  }
  if (Status end = args.finish(); !end.is_ok()) {
    reject_command(end.message());
    return;
  }
  rename_folder(*name, *parent, true);
}

void SessionCore::rename_folder(const std::string& name, const std::string& target, bool under) {
  store::Folders* folders = folders_or_reply();
  if (folders == nullptr) {
    return;
  }
  if (!is_inbox(name) && open_at_or_beneath(name)) {
    // Its snapshot and lock (and marks) belong to the name it had; select INBOX first.
    reply_err("Folder or one beneath it is open in this session.");
    return;
  }
  Status status = under ? folders->move_under(name, target) : folders->rename(name, target);
  if (!status.is_ok()) {
    reply_store_error(status, under ? "movf" : "renf");
    return;
  }
  log::info(under ? "folder-moved" : "folder-renamed")
      .kv("user", log_user())
      .kv("rip", remote_ip_)
      .kv("folder", name)
      .kv("to", target);
  reply_ok(under ? "Folder moved." : "Folder renamed.");
}

void SessionCore::handle_stor(const ParsedCommand& command) {
  Pop4Arguments args(command.args.first, utf8_);
  Result<std::string> name = args.folder();
  if (!name.is_ok()) {
    reject_command(name.status().message());
    return;
  }
  store::MessageFlags flags;
  if (!args.at_end()) {
    Result<store::MessageFlags> listed = args.flag_list();
    if (!listed.is_ok()) {
      reject_command(listed.status().message());
      return;
    }
    flags = std::move(listed).value();
  }
  if (Status end = args.finish(); !end.is_ok()) {
    reject_command(end.message());
    return;
  }
  store::Folders* folders = folders_or_reply();
  if (folders == nullptr) {
    return;
  }
  // Everything that can be checked is checked before the client sends a byte: the folder, the
  // flags (a store that cannot hold another keyword says so here).
  Result<store::FolderMessageWriterPtr> writer = folders->begin_store(*name, flags);
  if (!writer.is_ok()) {
    reply_store_error(writer.status(), "stor");
    return;
  }
  stor_ = StorState();
  stor_->folder = std::move(name).value();
  stor_->writer = std::move(writer).value();
  splitter_.set_max_line_octets(line_limit());
  out() += "+ send message\r\n";
}

void SessionCore::discard_stor(StorRefusal refusal, Status error) {
  if (stor_->refusal == StorRefusal::kNone) {
    stor_->refusal = refusal;
    stor_->write_error = std::move(error);
  }
  stor_->writer.reset();  // nothing of the message is left in the store
  std::string().swap(stor_->chunk);
}

void SessionCore::flush_stor_chunk() {
  if (!stor_->writer || stor_->chunk.empty()) {
    return;
  }
  Status written = stor_->writer->write(stor_->chunk);
  stor_->chunk.clear();
  if (!written.is_ok()) {
    discard_stor(StorRefusal::kWriteFailed, written);
  }
}

void SessionCore::process_stor_line(std::string_view line) {
  if (line == ".") {
    finish_stor();
    return;
  }
  if (line.starts_with('.')) {
    line.remove_prefix(1);  // RFC 1939 §3 byte-stuffing, undone
  }
  stor_->octets += line.size() + 2;
  if (stor_->octets > config_.max_stor_octets) {
    discard_stor(StorRefusal::kTooBig, Status::ok());
  }
  if (!stor_->writer) {
    return;  // refused: read on to the terminator
  }
  stor_->chunk.append(line);
  stor_->chunk.append("\r\n");
  if (stor_->chunk.size() >= kStorChunkOctets) {
    flush_stor_chunk();
  }
}

void SessionCore::stor_line_too_long() { discard_stor(StorRefusal::kLineTooLong, Status::ok()); }

void SessionCore::finish_stor() {
  StorState stor = std::move(*stor_);
  stor_.reset();
  splitter_.set_max_line_octets(line_limit());
  if (stor.writer && !stor.chunk.empty()) {
    if (Status written = stor.writer->write(stor.chunk); !written.is_ok()) {
      stor.writer.reset();
      stor.refusal = StorRefusal::kWriteFailed;
      stor.write_error = written;
    }
  }
  switch (stor.refusal) {
    case StorRefusal::kTooBig:
      log::info("stor-too-big")
          .kv("user", log_user())
          .kv("rip", remote_ip_)
          .kv("octets", stor.octets)
          .kv("limit", config_.max_stor_octets);
      reply_err("Message is larger than the " + std::to_string(config_.max_stor_octets) +
                    " octets this server stores.",
                ResponseCode::kSysPerm);
      return;
    case StorRefusal::kLineTooLong:
      log::info("stor-line-too-long").kv("user", log_user()).kv("rip", remote_ip_);
      reply_err("Message has a line longer than " + std::to_string(kMaxStorLineOctets) + " octets.",
                ResponseCode::kSysPerm);
      return;
    case StorRefusal::kWriteFailed:
      // The store's trouble, not the client's: worth another try later.
      log::warning("folder-command-failed")
          .kv("user", log_user())
          .kv("rip", remote_ip_)
          .kv("command", "stor")
          .kv("reason", stor.write_error.to_string());
      reply_err("Message could not be stored; try again later.", ResponseCode::kSysTemp);
      return;
    case StorRefusal::kNone:
      break;
  }
  Result<std::string> where = stor.writer->commit();
  if (!where.is_ok()) {
    reply_store_error(where.status(), "stor");
    return;
  }
  log::info("message-stored")
      .kv("user", log_user())
      .kv("rip", remote_ip_)
      .kv("folder", stor.folder)
      .kv("octets", stor.octets);
  reply_ok(stor.writer->uidl());
}

}  // namespace poplar::pop3
