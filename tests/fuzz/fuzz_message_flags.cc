// Fuzzes the flag parsers of the store (store/message_flags.h: POP4's flag syntax from clients;
// store/maildir/keywords_file.h: the dovecot-keywords file anybody with access to the Maildir can
// write; store/maildir/info_flags.h: the info letters of file names) with arbitrary bytes.
// Input: `<keywords file text>\0<flag tokens, space separated>\0<info letters>` (missing parts
// are empty). No input may crash; what the parsers accept must format and parse back to the same
// thing; new info letters must stand for exactly the wanted flags, sorted, each once, with every
// unknown old letter kept. Aborts otherwise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/maildir/info_flags.h"
#include "store/maildir/keywords_file.h"
#include "store/message_flags.h"

namespace {

using namespace poplar;         // NOLINT: a fuzz target's one file
using namespace poplar::store;  // NOLINT
using poplar::store::maildir::KeywordTable;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_message_flags: %s\n", what);
  std::abort();
}

std::string_view next_part(std::string_view& rest) {
  size_t nul = rest.find('\0');
  std::string_view part = rest.substr(0, nul);
  rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  return part;
}

void check_flags_round_trip(const MessageFlags& flags) {
  for (const std::string& k : flags.keywords()) {
    if (!is_keyword_atom(k)) {
      fail("a keyword that is not an atom got into a flag set");
    }
  }
  Result<MessageFlags> again = parse_flag_list(format_flags(flags));
  if (!again.is_ok() || !(*again == flags)) {
    fail("formatted flags do not parse back to the same set");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view file_text = next_part(rest);
  std::string_view tokens = next_part(rest);
  std::string_view old_letters = next_part(rest);

  KeywordTable table = KeywordTable::parse(file_text);
  if (KeywordTable::parse(table.format()).format() != table.format()) {
    fail("the keywords file does not read back as written");
  }
  for (char c = 'a'; c <= 'z'; ++c) {
    std::string_view k = table.keyword(c);
    if (!k.empty() && (!is_keyword_atom(k) || table.letter_of(k) != c)) {
      fail("a keyword letter maps to a non-atom or to two letters");
    }
  }

  MessageFlags flags;
  size_t pos = 0;
  while (pos < tokens.size()) {
    size_t end = tokens.find(' ', pos);
    if (end == std::string_view::npos) {
      end = tokens.size();
    }
    std::string_view token = tokens.substr(pos, end - pos);
    pos = end + 1;
    if (Result<FlagEdit> edit = parse_flag_edit(token); edit.is_ok()) {
      apply_flag_edit(flags, *edit);
    } else if (Result<Flag> flag = parse_flag(token); flag.is_ok()) {
      if (!flag->system && !is_keyword_atom(flag->keyword)) {
        fail("parse_flag accepted a keyword that is not an atom");
      }
      apply_flag_edit(flags, FlagEdit{true, *flag});
    } else if (flag.status().code() != ErrorCode::kInvalidInput) {
      fail("a bad flag is not kInvalidInput");
    }
  }
  check_flags_round_trip(flags);
  Result<MessageFlags> list = parse_flag_list(tokens);
  if (list.is_ok()) {
    check_flags_round_trip(*list);
  }

  MessageFlags old = maildir::flags_from_letters(old_letters, &table);
  check_flags_round_trip(old);
  Result<std::string> letters = maildir::letters_for(flags, old_letters, table);
  if (!letters.is_ok()) {
    if (letters.status().code() != ErrorCode::kLimit) {
      fail("letters_for failed with something other than kLimit");
    }
    return 0;
  }
  if (!(maildir::flags_from_letters(*letters, &table) == flags)) {
    fail("the new letters do not stand for the wanted flags");
  }
  for (size_t i = 1; i < letters->size(); ++i) {
    auto a = static_cast<unsigned char>((*letters)[i - 1]);
    auto b = static_cast<unsigned char>((*letters)[i]);
    if (a == b || (a < 128 && b < 128 && a > b)) {
      fail("the new letters are not sorted or not unique");
    }
  }
  for (char c : old_letters) {
    bool known = std::string_view("DFPRST").find(c) != std::string_view::npos ||
                 (c >= 'a' && c <= 'z' && !table.keyword(c).empty());
    if (!known && letters->find(c) == std::string::npos) {
      fail("an unknown old letter was dropped");
    }
  }
  return 0;
}
