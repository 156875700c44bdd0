// Maildir info letters ↔ MessageFlags; see info_flags.h.
//
// Must never: drop a letter it does not understand; touch the file system.
//
// Thread-safety: pure functions.
#include "store/maildir/info_flags.h"

#include <algorithm>
#include <bitset>

#include "base/ascii.h"
#include "store/maildir/file_name.h"

namespace poplar::store::maildir {
namespace {

constexpr std::string_view kForwarded = "$Forwarded";

struct LetterFlag {
  char letter;
  SystemFlag flag;
};
constexpr LetterFlag kLetterFlags[] = {
    {'D', SystemFlag::kDraft}, {'F', SystemFlag::kFlagged}, {'R', SystemFlag::kAnswered},
    {'S', SystemFlag::kSeen},  {'T', SystemFlag::kDeleted},
};

const LetterFlag* system_letter(char c) {
  for (const LetterFlag& lf : kLetterFlags) {
    if (lf.letter == c) {
      return &lf;
    }
  }
  return nullptr;
}

}  // namespace

std::string_view info_letters(std::string_view file_name) {
  size_t colon = file_name.find(':');
  if (colon == std::string_view::npos) {
    return {};
  }
  std::string_view info = file_name.substr(colon + 1);
  if (!info.starts_with("2,")) {
    return {};
  }
  return info.substr(2);
}

bool has_keyword_letters(std::string_view letters) {
  return std::any_of(letters.begin(), letters.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

MessageFlags flags_from_letters(std::string_view letters, const KeywordTable* table) {
  MessageFlags flags;
  for (char c : letters) {
    if (const LetterFlag* lf = system_letter(c)) {
      flags.set(lf->flag);
    } else if (c == 'P') {
      (void)flags.add_keyword(kForwarded);
    } else if (table != nullptr && c >= 'a' && c <= 'z') {
      std::string_view keyword = table->keyword(c);
      if (!keyword.empty()) {
        (void)flags.add_keyword(keyword);  // the table holds only keyword atoms
      }
    }
  }
  return flags;
}

Result<std::string> letters_for(const MessageFlags& flags, std::string_view old_letters,
                                KeywordTable& table) {
  std::bitset<128> set;
  for (const LetterFlag& lf : kLetterFlags) {
    if (flags.has(lf.flag)) {
      set.set(static_cast<size_t>(lf.letter));
    }
  }
  for (const std::string& keyword : flags.keywords()) {
    if (ascii_iequals(keyword, kForwarded)) {
      set.set('P');
      continue;
    }
    Result<char> letter = table.add(keyword);
    if (!letter.is_ok()) {
      return letter.status();
    }
    set.set(static_cast<size_t>(*letter));
  }
  std::string unknown;  // letters outside 0x00-0x7F are kept too, after the others
  for (char c : old_letters) {
    const bool known = system_letter(c) != nullptr || c == 'P' ||
                       (c >= 'a' && c <= 'z' && !table.keyword(c).empty());
    if (known) {
      continue;  // the new flags say whether it stays
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 128) {
      set.set(u);
    } else if (unknown.find(c) == std::string::npos) {
      unknown += c;
    }
  }
  std::string out;
  for (size_t c = 0; c < 128; ++c) {
    if (set.test(c)) {
      out += static_cast<char>(c);
    }
  }
  std::sort(unknown.begin(), unknown.end());
  return out + unknown;
}

std::string name_with_letters(std::string_view base, std::string_view letters) {
  std::string name;
  name.reserve(base.size() + 3 + letters.size());
  name += base;
  name += ":2,";
  name += letters;
  return name;
}

}  // namespace poplar::store::maildir
