// The client side of POP4 folder names (the Poplar POP4 profile, /work/shared/POP4.md "Common
// syntax" and "Folder commands"; docs/pop4.md): checking a name the user gave before it is
// sent, writing it as a command argument (an atom, or a quoted string with \" and \\), and
// parsing one line of LFLD's answer, `folder messages octets`.
//
// LFLD lines are server bytes, so untrusted: a bad line is an error with a clear message (the
// line sanitised), never a crash or an assertion, and nothing longer than the line is kept.
//
// No I/O here (pop3/ is sans-I/O). Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"

namespace poplar::pop3 {

// One folder of LFLD's answer: its name (unquoted, escapes resolved) and what STAT would say.
struct FolderListing {
  std::string name;
  uint64_t messages = 0;
  uint64_t octets = 0;

  bool operator==(const FolderListing&) const = default;
};

// Longest folder name `poplar fetch` sends: "MOVE 4294967295 " plus the name quoted (every
// octet escaped at worst, plus two quotes) must stay within RFC 2449 §4's 255 octets with CRLF.
inline constexpr size_t kMaxFolderNameOctets = 100;

// True for INBOX in any case (POP4.md: "INBOX (any case) is the inbox").
bool is_inbox(std::string_view name);

// A name the user gave (--folder, --move-to, the account file): OK, or kInvalidInput saying
// what is wrong. Refused: empty, longer than kMaxFolderNameOctets, control octets, octets
// >= 0x80 (names are ASCII until a client issues UTF8, which `poplar fetch` does not), an empty
// hierarchy level ("a//b", "/a", "a/") and the levels "." and "..".
Status check_folder_name(std::string_view name);

// The name as a command argument: itself when it is an atom (1*VCHAR without `"` `\` `*` `%`;
// octets >= 0x80 count as atom octets, as a UTF8 server would send them), otherwise a quoted
// string with `"` and `\` escaped.
std::string folder_argument(std::string_view name);

// One LFLD body line (un-stuffed, without its line end): `folder SP messages SP octets`, any
// run of spaces between the fields (SPEC PR-C-3), nothing after octets. The folder is an atom
// or a quoted string whose only escapes are \" and \\.
// Errors: kInvalidInput with a message that quotes the line sanitised.
Result<FolderListing> parse_folder_listing(std::string_view line);

}  // namespace poplar::pop3
