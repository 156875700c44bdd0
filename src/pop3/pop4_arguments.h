// The arguments of the POP4 folder and flag commands (POP4.md "Common syntax"): folder names
// (an atom, or a quoted string with \" and \\ as its only escapes), message sets ("1,4:6,9")
// and STOR's parenthesized flag list, read left to right from the text after the keyword.
//
// Only the syntax is checked here; whether a folder name is a valid folder (levels, ".", "..",
// length) is the store's rule (store/folders.h), and whether a message exists is the session's.
// Error messages never repeat the argument (it may hold anything a 255-octet line can).
//
// Must never: accept an argument that leaves text unread, or expand a message set (a range
// "1:4000000000" is two numbers here; the session checks both ends before it walks it).
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pop3/message_number.h"
#include "store/message_flags.h"

namespace poplar::pop3 {

// One element of a message set: first..last, inclusive, first <= last ("5:2" is refused:
// POP4.md's numbers are a client's own listing, never a reversed IMAP range).
struct MessageRange {
  MessageNumber first;
  MessageNumber last;
};

// A message set as written: ranges in the client's order, possibly overlapping.
struct MessageSet {
  std::vector<MessageRange> ranges;
};

// Reads the arguments of one command. `utf8`: the session issued UTF8 (RFC 6856), so folder
// names may hold UTF-8 (octets 0x80-0xFF in atoms and quoted strings); otherwise ASCII only.
class Pop4Arguments {
 public:
  Pop4Arguments(std::string_view text, bool utf8) : rest_(text), utf8_(utf8) {}

  // The next argument as a folder name, unquoted. "" is possible only as a quoted "" (MOVF's
  // top level). Errors (kInvalidInput): missing, an unterminated quote, a bad escape, '*' '%'
  // or a non-ASCII octet without UTF8, no SP after it when more text follows.
  Result<std::string> folder();

  // The next argument as a message set: n, n:m or a comma-separated list of those, each number
  // 1..2^32-1. Errors (kInvalidInput): missing, empty elements, 0, a number over 32 bits,
  // first > last, anything else in it.
  Result<MessageSet> message_set();

  // The next space-separated word, as is (FLAG's "+\Seen"). Errors: missing.
  Result<std::string_view> word();

  // STOR's optional "(flag flag ...)", which must be the last argument: the flags it names.
  // Errors (kInvalidInput): no closing parenthesis, text after it, a token that is not a flag
  // (store::parse_flag_list's rules).
  Result<store::MessageFlags> flag_list();

  // True when nothing is left.
  bool at_end() const { return rest_.empty(); }

  // OK when nothing is left; kInvalidInput ("too many arguments") otherwise.
  Status finish() const;

 private:
  // Before every argument but the first: consumes the single SP that separates it from the
  // one before. kInvalidInput when the argument is missing or two SPs follow each other.
  Status start_argument(std::string_view what);

  std::string_view rest_;
  bool utf8_;
  bool first_ = true;  // no argument read yet: no separating SP expected
};

// An octet of a folder-name atom (POP4.md: 1*VCHAR without '"' '\' '*' '%'; with UTF8 the
// octets of UTF-8 sequences too). The server's reader and the client's LFLD parser share it.
bool is_folder_atom_octet(unsigned char c, bool utf8);

// Formats a folder name for a reply line (LFLD) or a command argument (the client's SFLD, MOVE): an
// atom when it is one, otherwise a quoted string with '"' and '\' escaped.
std::string quote_folder_name(std::string_view name);

}  // namespace poplar::pop3
