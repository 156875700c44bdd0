// MessageFlags and the POP4 flag syntax; see message_flags.h.
//
// Must never: accept a token that is not a flag, or crash on any input.
//
// Thread-safety: pure functions.
#include "store/message_flags.h"

#include <algorithm>

#include "base/ascii.h"

namespace poplar::store {
namespace {

char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Case-folded comparison, the order keywords are kept in.
int compare_folded(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    char x = fold(a[i]);
    char y = fold(b[i]);
    if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

bool is_atom_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u < 0x21 || u > 0x7e) {
    return false;
  }
  switch (c) {
    case '(':
    case ')':
    case '{':
    case ']':
    case '%':
    case '*':
    case '"':
    case '\\':
      return false;
    default:
      return true;
  }
}

std::string printable(std::string_view token) {
  // Error messages may reach logs: no control characters, and a bounded length.
  std::string out;
  for (char c : token.substr(0, 80)) {
    auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u <= 0x7e) ? c : '?';
  }
  return out;
}

}  // namespace

std::string_view system_flag_name(SystemFlag flag) {
  switch (flag) {
    case SystemFlag::kSeen:
      return "\\Seen";
    case SystemFlag::kAnswered:
      return "\\Answered";
    case SystemFlag::kFlagged:
      return "\\Flagged";
    case SystemFlag::kDeleted:
      return "\\Deleted";
    case SystemFlag::kDraft:
      return "\\Draft";
  }
  return "";
}

bool is_keyword_atom(std::string_view text) {
  return !text.empty() && text.size() <= kMaxKeywordLength &&
         std::all_of(text.begin(), text.end(), is_atom_char);
}

bool MessageFlags::has_keyword(std::string_view keyword) const {
  auto it = std::lower_bound(
      keywords_.begin(), keywords_.end(), keyword,
      [](const std::string& k, std::string_view key) { return compare_folded(k, key) < 0; });
  return it != keywords_.end() && compare_folded(*it, keyword) == 0;
}

bool MessageFlags::add_keyword(std::string_view keyword) {
  if (!is_keyword_atom(keyword)) {
    return false;
  }
  auto it = std::lower_bound(
      keywords_.begin(), keywords_.end(), keyword,
      [](const std::string& k, std::string_view key) { return compare_folded(k, key) < 0; });
  if (it == keywords_.end() || compare_folded(*it, keyword) != 0) {
    keywords_.insert(it, std::string(keyword));
  }
  return true;
}

void MessageFlags::remove_keyword(std::string_view keyword) {
  std::erase_if(keywords_, [&](const std::string& k) { return compare_folded(k, keyword) == 0; });
}

bool operator==(const MessageFlags& a, const MessageFlags& b) {
  if (a.system_ != b.system_ || a.keywords_.size() != b.keywords_.size()) {
    return false;
  }
  for (size_t i = 0; i < a.keywords_.size(); ++i) {
    if (compare_folded(a.keywords_[i], b.keywords_[i]) != 0) {
      return false;
    }
  }
  return true;
}

Result<Flag> parse_flag(std::string_view token) {
  if (!token.empty() && token.front() == '\\') {
    for (SystemFlag flag : kSystemFlags) {
      if (ascii_iequals(token, system_flag_name(flag))) {
        return Flag{flag, {}};
      }
    }
    return Status::invalid_input("not a flag that can be stored: " + printable(token));
  }
  if (!is_keyword_atom(token)) {
    return Status::invalid_input("not a flag (a keyword is an atom of at most " +
                                 std::to_string(kMaxKeywordLength) +
                                 " characters): " + printable(token));
  }
  return Flag{std::nullopt, std::string(token)};
}

Result<FlagEdit> parse_flag_edit(std::string_view token) {
  if (token.empty() || (token.front() != '+' && token.front() != '-')) {
    return Status::invalid_input("a flag change starts with + or -: " + printable(token));
  }
  Result<Flag> flag = parse_flag(token.substr(1));
  if (!flag.is_ok()) {
    return flag.status();
  }
  return FlagEdit{token.front() == '+', std::move(flag).value()};
}

void apply_flag_edit(MessageFlags& flags, const FlagEdit& edit) {
  if (edit.flag.system) {
    flags.set(*edit.flag.system, edit.add);
  } else if (edit.add) {
    (void)flags.add_keyword(edit.flag.keyword);  // parse_flag checked it
  } else {
    flags.remove_keyword(edit.flag.keyword);
  }
}

Result<MessageFlags> parse_flag_list(std::string_view text) {
  MessageFlags flags;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    Result<Flag> flag = parse_flag(text.substr(pos, end - pos));
    if (!flag.is_ok()) {
      return flag.status();
    }
    apply_flag_edit(flags, FlagEdit{true, std::move(flag).value()});
    pos = end;
  }
  return flags;
}

std::string format_flags(const MessageFlags& flags) {
  std::string out;
  auto add = [&out](std::string_view word) {
    if (!out.empty()) {
      out += ' ';
    }
    out += word;
  };
  for (SystemFlag flag : kSystemFlags) {
    if (flags.has(flag)) {
      add(system_flag_name(flag));
    }
  }
  for (const std::string& keyword : flags.keywords()) {
    add(keyword);
  }
  return out;
}

}  // namespace poplar::store
