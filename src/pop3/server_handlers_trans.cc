// TRANSACTION-state handlers (RFC 1939 §5, §7) and the UPDATE state (RFC 1939 §6). Which
// command reaches which handler is decided by command_table.cc alone.
//
// Must never: remove anything before QUIT (DELE only marks), remove a message that was not
// marked, renumber messages (numbers are fixed for the session, RFC 1939 §4), or buffer a
// whole message (RETR/TOP stream through reply_producer.h).
// Thread-safety: not thread-safe; part of SessionCore.
#include <optional>
#include <utility>

#include "base/log.h"
#include "pop3/server_session_impl.h"
#include "pop3/utf8_header_check.h"

namespace poplar::pop3 {

std::string plural(uint64_t n, std::string_view word) {
  std::string s = std::to_string(n);
  s += ' ';
  s += word;
  if (n != 1) {
    s += 's';
  }
  return s;
}

std::optional<MessageIndex> SessionCore::live_message(MessageNumber number) const {
  MessageIndex index = to_index(number);
  if (index.value >= deleted().size() || deleted()[index.value]) {
    return std::nullopt;  // RFC 1939 §5: a deleted message is as good as absent
  }
  return index;
}

void SessionCore::recount() {
  const auto& messages = drop().messages();
  live_count_ = 0;
  live_octets_ = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!deleted()[i]) {
      ++live_count_;
      live_octets_ += messages[i].size_octets;
    }
  }
}

std::string SessionCore::maildrop_summary() const {
  return plural(live_count_, "message") + " (" + plural(live_octets_, "octet") + ")";
}

void SessionCore::handle_stat(const ParsedCommand&) {
  // RFC 1939 §5: "+OK nn mm", deleted messages excluded, nothing after mm.
  reply_ok(std::to_string(live_count_) + " " + std::to_string(live_octets_));
}

void SessionCore::handle_list(const ParsedCommand& command) {
  const auto& messages = drop().messages();
  if (command.args.message) {
    auto index = live_message(*command.args.message);
    if (!index) {
      reply_err(kNoSuchMessage);
      return;
    }
    reply_ok(std::to_string(command.args.message->value) + " " +
             std::to_string(messages[index->value].size_octets));
    return;
  }
  reply_ok(maildrop_summary());
  start_stream(StreamKind::kList, std::make_unique<ScanListProducer>(ScanListProducer::Kind::kSizes,
                                                                     messages, deleted()));
}

void SessionCore::handle_uidl(const ParsedCommand& command) {
  const auto& messages = drop().messages();
  if (command.args.message) {
    auto index = live_message(*command.args.message);
    if (!index) {
      reply_err(kNoSuchMessage);
      return;
    }
    // RFC 1939 §7: exactly one SP, nothing after the unique-id.
    reply_ok(std::to_string(command.args.message->value) + " " +
             std::string(messages[index->value].uidl));
    return;
  }
  reply_ok("Unique-ID listing follows.");
  start_stream(StreamKind::kList, std::make_unique<ScanListProducer>(ScanListProducer::Kind::kUidls,
                                                                     messages, deleted()));
}

void SessionCore::handle_retr(const ParsedCommand& command) {
  open_message_stream(command, StreamKind::kRetr);
}

void SessionCore::handle_top(const ParsedCommand& command) {
  open_message_stream(command, StreamKind::kTop);
}

void SessionCore::open_message_stream(const ParsedCommand& command, StreamKind kind) {
  auto index = live_message(*command.args.message);
  if (!index) {
    reply_err(kNoSuchMessage);
    return;
  }
  store::MessageReaderPtr reader = open_reader(*command.args.message, *index);
  if (!reader) {
    return;
  }
  if (config_.refuse_utf8_headers && !utf8_) {
    Result<PrefetchedMessage> prefetched = prefetch_header(std::move(reader));
    if (!prefetched.is_ok()) {
      log::warning("message-read-failed")
          .kv("user", log_user())
          .kv("rip", remote_ip_)
          .kv("msg", command.args.message->value)
          .kv("reason", prefetched.status().to_string());
      WireError error = map_error(prefetched.status().code(), Operation::kReadMessage);
      reply_err(error.text, error.code);
      return;
    }
    if (prefetched->needs_utf8) {
      reply_err("Message has UTF-8 header fields; issue UTF8 first.", ResponseCode::kUtf8);
      return;
    }
    reader = std::move(prefetched->reader);
  }
  DotStufferOptions options;
  options.nul_to_0x80 = config_.workaround_outlook_no_nuls;
  options.add_missing_separator = config_.workaround_oe_ns_eoh;
  const uint64_t size = drop().messages()[index->value].size_octets;
  // RETR sends exactly the announced size (unless oe-ns-eoh adds a separator): the producer may
  // stop at a short read that completes it. TOP sends a part of unknown size.
  std::optional<uint64_t> expected;
  if (kind == StreamKind::kTop) {
    options.top_body_lines = command.args.lines;
    reply_ok("Top of message follows.");
  } else {
    reply_ok(std::to_string(size) + " octets");  // RFC 1939 §5 example: "+OK 120 octets"
    if (!options.add_missing_separator) {
      expected = size;
    }
  }
  stream_expected_octets_ = size;
  start_stream(kind, std::make_unique<MessageProducer>(std::move(reader), options, expected));
}

store::MessageReaderPtr SessionCore::open_reader(MessageNumber number, MessageIndex index) {
  Result<store::MessageReaderPtr> reader = drop().open_message(index.value);
  if (reader.is_ok() && *reader) {
    return std::move(*reader);
  }
  // Still before the +OK: the client gets a proper -ERR and the session goes on.
  Status status = reader.is_ok() ? Status::temporary("store returned no reader") : reader.status();
  log::warning("message-open-failed")
      .kv("user", log_user())
      .kv("rip", remote_ip_)
      .kv("msg", number.value)
      .kv("reason", status.to_string());
  WireError error = map_error(status.code(), Operation::kReadMessage);
  reply_err(error.text, error.code);
  return nullptr;
}

void SessionCore::handle_dele(const ParsedCommand& command) {
  MessageIndex index = to_index(*command.args.message);
  if (index.value >= deleted().size()) {
    reply_err(kNoSuchMessage);
    return;
  }
  if (deleted()[index.value]) {
    reply_err("Message already deleted.");  // RFC 1939 §5: DELE of a deleted message is -ERR
    return;
  }
  // RFC 1939 §5: only marked; UPDATE removes it after QUIT.
  deleted()[index.value] = true;
  --live_count_;
  live_octets_ -= drop().messages()[index.value].size_octets;
  reply_ok("Message " + std::to_string(command.args.message->value) + " deleted.");
}

void SessionCore::handle_noop(const ParsedCommand&) { reply_ok("Still here."); }

void SessionCore::handle_rset(const ParsedCommand&) {
  // RFC 1939 §5: unmark all. POP4.md: RSET undoes DELE, MOVE's removal half and FLAG in the
  // selected folder; marks left in other folders stay.
  deleted().assign(deleted().size(), false);
  selected_->flag_changes.clear();
  recount();
  reply_ok("Maildrop has " + maildrop_summary() + ".");
}

void SessionCore::handle_last(const ParsedCommand&) {
  // Removed from POP3 by RFC 1725 (SPEC PR-S-3); Dovecot refuses it by default too.
  reply_err("LAST command not supported.");
}

void SessionCore::handle_xtnd(const ParsedCommand&) {
  // draft-hansen XTND XMIT/XLST, Historic (SPEC PR-S-4).
  reply_err("XTND command not supported.");
}

bool SessionCore::OpenFolder::has_marks() const {
  if (!flag_changes.empty()) {
    return true;
  }
  for (bool marked : deleted) {
    if (marked) {
      return true;
    }
  }
  return false;
}

store::MessageFlags SessionCore::flags_after_update(MessageIndex index) const {
  auto it = selected_->flag_changes.find(index.value);
  return it != selected_->flag_changes.end() ? it->second : drop().flags(index.value);
}

void SessionCore::handle_quit_transaction(const ParsedCommand&) {
  // RFC 1939 §6: QUIT from TRANSACTION is the only way into UPDATE.
  state_ = SessionState::kUpdate;
  marked_for_update_ = 0;
  bool work = false;
  for (const auto& folder : open_folders_) {
    for (bool marked : folder->deleted) {
      marked_for_update_ += marked ? 1 : 0;
    }
    work = work || folder->has_marks();
  }
  if (!work) {
    on_update_committed(Status::ok());  // nothing to change: no store call needed
    return;
  }
  waiting_ = Waiting::kCommit;
}

Status SessionCore::run_update() {
  // Every folder with marks commits on its own (each removal and flag change is atomic and
  // idempotent in the store). The folders besides INBOX go first: a MOVE's copy already exists
  // there, and a failure in one folder does not stop the others. The first error is reported.
  Status first_error;
  for (size_t i = open_folders_.size(); i-- > 0;) {
    OpenFolder& folder = *open_folders_[i];
    if (!folder.has_marks()) {
      continue;
    }
    std::vector<size_t> deletions;
    for (size_t m = 0; m < folder.deleted.size(); ++m) {
      if (folder.deleted[m]) {
        deletions.push_back(m);
      }
    }
    std::vector<store::FlagChange> changes;
    for (const auto& [index, flags] : folder.flag_changes) {
      if (!folder.deleted[index]) {
        changes.push_back(store::FlagChange{index, flags});
      }
    }
    Status status = changes.empty() ? folder.maildrop->commit_update(deletions)
                                    : folder.maildrop->commit_update(deletions, changes);
    if (!status.is_ok()) {
      log::error("update-failed")
          .kv("user", log_user())
          .kv("rip", remote_ip_)
          .kv("marked", static_cast<uint64_t>(deletions.size()))
          .kv("folder", folder.name)
          .kv("flag_changes", static_cast<uint64_t>(changes.size()))
          .kv("reason", status.to_string());
      if (first_error.is_ok()) {
        first_error = std::move(status);
      }
    }
  }
  return first_error;
}

void SessionCore::on_update_committed(Status status) {
  if (state_ != SessionState::kUpdate &&
      !(state_ == SessionState::kClosed && waiting_ == Waiting::kCommit)) {
    log::error("unexpected-update-result").kv("rip", remote_ip_);  // a driver bug; ignore it
    return;
  }
  waiting_ = Waiting::kNothing;
  release_folders();  // RFC 1939 §6: release the lock, whatever the outcome
  if (state_ == SessionState::kClosed) {
    return;
  }
  if (status.is_ok()) {
    deleted_count_ = marked_for_update_;
    reply_ok("Bye, " + plural(deleted_count_, "message") + " deleted.");
  } else {
    // RFC 1939 §6: "-ERR some deleted messages not removed", then close all the same. The
    // detail was logged by run_update().
    WireError error = map_error(status.code(), Operation::kCommitUpdate);
    reply_err(error.text, error.code);
  }
  close(CloseReason::kQuit);
}

}  // namespace poplar::pop3
