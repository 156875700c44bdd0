// POP4 FLAGS handlers (POP4.md "Flag commands"; docs/pop4.md), on the selected folder:
//   FLGS [msgset]               "+OK N messages", "n flag flag ..." per live message, "."
//   FLAG msgset (+|-)flag ...   "+OK Flags changed."
// FLGS shows each message's flags as they will be after UPDATE (flags_after_update). FLAG only
// records each changed message's whole new set in OpenFolder::flag_changes (an entry that
// equals the stored set is dropped, so a FLAG undone by another leaves nothing for UPDATE);
// run_update() hands them to the store's commit_update() after QUIT, and RSET forgets them.
// Valid only in TRANSACTION with the FLAGS ability on (command_table.cc).
//
// Errors, all before any "+OK", leave the session as it was: syntax (a bad message set, a
// missing or unparsable flag change such as "+\Recent": counted as bad commands), a message
// that does not exist or is marked deleted, and a keyword the store could not hold at UPDATE
// (Maildrop::check_keywords_fit: a Maildir folder holds at most 26 keywords) as
// "-ERR [SYS/PERM] ...", so that UPDATE never fails with kLimit for a change FLAG accepted.
//
// Must never: change a stored flag before QUIT, or change anything when a command fails.
// Thread-safety: not thread-safe; part of SessionCore.
#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <utility>

#include "pop3/server_session_impl.h"

namespace poplar::pop3 {
namespace {

// FLGS's listing, a line at a time up to the watermark like LIST's (a folder may hold
// 100,000 messages). The session outlives the producer and runs no command while it streams,
// so the selected folder and its marks stay as they were when FLGS was answered.
class FlagListProducer final : public ReplyProducer {
 public:
  // `indexes`: the messages to list (ascending); nullopt: every message `deleted` leaves live.
  FlagListProducer(std::optional<std::vector<MessageIndex>> indexes,
                   const std::vector<bool>& deleted,
                   std::function<store::MessageFlags(MessageIndex)> flags_of)
      : indexes_(std::move(indexes)), deleted_(deleted), flags_of_(std::move(flags_of)) {}

  Result<bool> produce(std::string& out, size_t target_octets) override {
    const size_t end = indexes_ ? indexes_->size() : deleted_.size();
    while (next_ < end) {
      if (out.size() >= target_octets) {
        return false;
      }
      const size_t index = indexes_ ? (*indexes_)[next_].value : next_;
      ++next_;
      if (!indexes_ && deleted_[index]) {
        continue;
      }
      // Lines start with a digit: nothing to dot-stuff. No flags: the number alone (POP4.md).
      out += std::to_string(index + 1);
      std::string flags = store::format_flags(flags_of_(MessageIndex{index}));
      if (!flags.empty()) {
        out += ' ';
        out += flags;
      }
      out += "\r\n";
    }
    out += ".\r\n";
    return true;
  }

 private:
  std::optional<std::vector<MessageIndex>> indexes_;
  const std::vector<bool>& deleted_;
  std::function<store::MessageFlags(MessageIndex)> flags_of_;
  size_t next_ = 0;
};

// A store's message as a client reads it: first letter upper case, a full stop at the end.
std::string sentence(std::string_view text) {
  std::string s(text);
  if (!s.empty()) {
    if (s[0] >= 'a' && s[0] <= 'z') {
      s[0] = static_cast<char>(s[0] - 'a' + 'A');
    }
    if (s.back() != '.') {
      s += '.';
    }
  }
  return s;
}

}  // namespace

void SessionCore::handle_flgs(const ParsedCommand& command) {
  Pop4Arguments args(command.args.first, utf8_);
  std::optional<std::vector<MessageIndex>> indexes;
  uint64_t count = live_count_;
  if (!args.at_end()) {
    Result<MessageSet> set = args.message_set();
    if (!set.is_ok()) {
      reject_command(set.status().message());
      return;
    }
    if (Status end = args.finish(); !end.is_ok()) {
      reject_command(end.message());
      return;
    }
    indexes = resolve_message_set(*set);
    if (!indexes) {
      return;  // the -ERR is queued
    }
    count = indexes->size();
  }
  reply_ok(plural(count, "message"));
  start_stream(StreamKind::kList, std::make_unique<FlagListProducer>(
                                      std::move(indexes), deleted(), [this](MessageIndex index) {
                                        return flags_after_update(index);
                                      }));
}

void SessionCore::handle_flag(const ParsedCommand& command) {
  // Everything is parsed before anything changes: a bad edit anywhere refuses the whole command.
  Pop4Arguments args(command.args.first, utf8_);
  Result<MessageSet> set = args.message_set();
  if (!set.is_ok()) {
    reject_command(set.status().message());
    return;
  }
  if (args.at_end()) {
    reject_command("Missing flag change (+flag or -flag).");
    return;
  }
  std::vector<store::FlagEdit> edits;
  bool adds_keyword = false;
  do {
    Result<std::string_view> word = args.word();
    if (!word.is_ok()) {
      reject_command(word.status().message());
      return;
    }
    Result<store::FlagEdit> edit = store::parse_flag_edit(*word);
    if (!edit.is_ok()) {
      reject_command(sentence(edit.status().message()));
      return;
    }
    adds_keyword = adds_keyword || (edit->add && !edit->flag.system);
    edits.push_back(std::move(edit).value());
  } while (!args.at_end());
  std::optional<std::vector<MessageIndex>> indexes = resolve_message_set(*set);
  if (!indexes) {
    return;
  }

  // The new whole set of each named message; applied to flag_changes only once all is known.
  std::vector<std::pair<size_t, store::MessageFlags>> updated;
  updated.reserve(indexes->size());
  for (MessageIndex index : *indexes) {
    store::MessageFlags flags = flags_after_update(index);
    for (const store::FlagEdit& edit : edits) {
      store::apply_flag_edit(flags, edit);
    }
    updated.emplace_back(index.value, std::move(flags));
  }

  if (adds_keyword) {
    // Every keyword UPDATE would give this folder's messages, the pending ones of other
    // messages included: they have no place in the store yet either.
    // A pending set this FLAG replaces does not count, nor one of a message marked deleted
    // (UPDATE removes it instead).
    std::set<std::string> keywords;
    for (const auto& [index, flags] : selected_->flag_changes) {
      if (!deleted()[index] &&
          !std::binary_search(indexes->begin(), indexes->end(), MessageIndex{index})) {
        keywords.insert(flags.keywords().begin(), flags.keywords().end());
      }
    }
    for (const auto& [index, flags] : updated) {
      keywords.insert(flags.keywords().begin(), flags.keywords().end());
    }
    // MessageFlags keeps one spelling per keyword and message; two messages may spell one
    // keyword differently, which the store counts once.
    std::vector<std::string> list(keywords.begin(), keywords.end());
    if (Status fit = drop().check_keywords_fit(list); !fit.is_ok()) {
      reply_store_error(fit, "flag");
      return;
    }
  }

  for (auto& [index, flags] : updated) {
    if (flags == drop().flags(index)) {
      selected_->flag_changes.erase(index);  // back to what is stored: nothing for UPDATE
    } else {
      selected_->flag_changes[index] = std::move(flags);
    }
  }
  reply_ok("Flags changed.");
}

}  // namespace poplar::pop3
