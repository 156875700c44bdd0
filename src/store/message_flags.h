// MessageFlags: the flags of one stored message (POP4 FLGS/FLAG, POP4.md "Flag commands"): the
// five IMAP system flags as a bitmask and a set of keywords (atoms such as `$Junk`), with the
// POP4 wire syntax of a single flag (`\Seen`, case-insensitive; `$Label1`) and of a flag edit
// (`+\Seen`, `-$Junk`). It knows the flag names of POP4.md (IMAP's) and nothing else of POP3,
// so pop3/ can parse its commands with it and every store backend can keep flags with it.
//
// Keywords compare case-insensitively (RFC 3501 §2.3.2): a set never holds `$junk` beside
// `$Junk`; the spelling first added is kept. They are kept sorted (ASCII, case folded), so two
// equal sets compare equal and format the same.
//
// Must never: accept a keyword that could break a wire line or a store's file (spaces,
// controls, parentheses, quotes, backslashes, non-ASCII, more than kMaxKeywordLength octets);
// allocate for the system flags.
//
// Thread-safety: a value type; pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace poplar::store {

// The system flags, one bit each (IMAP names; Maildir letters in store/maildir/info_flags.h).
enum class SystemFlag : uint8_t {
  kSeen = 1 << 0,
  kAnswered = 1 << 1,
  kFlagged = 1 << 2,
  kDeleted = 1 << 3,
  kDraft = 1 << 4,
};

inline constexpr SystemFlag kSystemFlags[] = {SystemFlag::kSeen, SystemFlag::kAnswered,
                                              SystemFlag::kFlagged, SystemFlag::kDeleted,
                                              SystemFlag::kDraft};

// Long enough for every keyword clients use ($Label1, $MDNSent, NonJunk, Thunderbird's tags);
// short enough that a FLAG command with several of them fits a POP3 command line.
inline constexpr size_t kMaxKeywordLength = 64;

// "\Seen", "\Answered", "\Flagged", "\Deleted", "\Draft".
std::string_view system_flag_name(SystemFlag flag);

// An IMAP atom of 1..kMaxKeywordLength octets that is not a system flag: 0x21-0x7E except
// ( ) { ] % * " \ (RFC 3501 atom-specials).
bool is_keyword_atom(std::string_view text);

class MessageFlags {
 public:
  MessageFlags() = default;

  bool has(SystemFlag flag) const { return (system_ & static_cast<uint8_t>(flag)) != 0; }
  void set(SystemFlag flag, bool on = true) {
    system_ = on ? static_cast<uint8_t>(system_ | static_cast<uint8_t>(flag))
                 : static_cast<uint8_t>(system_ & ~static_cast<uint8_t>(flag));
  }
  // The bitmask of SystemFlag values.
  uint8_t system() const { return system_; }

  bool has_keyword(std::string_view keyword) const;
  // Returns false (and changes nothing) unless is_keyword_atom(keyword). Adding one already
  // present in any case is a no-op that returns true.
  bool add_keyword(std::string_view keyword);
  void remove_keyword(std::string_view keyword);
  // Sorted, case folded; no two equal case-insensitively.
  const std::vector<std::string>& keywords() const { return keywords_; }

  bool empty() const { return system_ == 0 && keywords_.empty(); }

  friend bool operator==(const MessageFlags& a, const MessageFlags& b);

 private:
  uint8_t system_ = 0;
  std::vector<std::string> keywords_;
};

// One flag of the wire syntax: a system flag or a keyword.
struct Flag {
  std::optional<SystemFlag> system;  // set for a system flag
  std::string keyword;               // otherwise
};

// Parses one flag token: a system flag in any case (`\SEEN`) or a keyword atom. Errors:
// kInvalidInput naming the token (an unknown `\Name` such as `\Recent`, which cannot be
// stored, or a token that is not an atom).
Result<Flag> parse_flag(std::string_view token);

// `+flag` or `-flag` (FLAG's arguments).
struct FlagEdit {
  bool add = true;
  Flag flag;
};
// Errors: kInvalidInput (no sign, or not a flag).
Result<FlagEdit> parse_flag_edit(std::string_view token);
// Applies the edit; a keyword edit on a set that has the keyword in another case affects it.
void apply_flag_edit(MessageFlags& flags, const FlagEdit& edit);

// Space-separated flags (STOR's list without its parentheses; empty text is no flags).
// Errors: kInvalidInput naming the first bad token.
Result<MessageFlags> parse_flag_list(std::string_view text);

// The flags as FLGS shows them: system flags in the order \Seen \Answered \Flagged \Deleted
// \Draft, then the keywords, separated by single spaces ("" for none).
std::string format_flags(const MessageFlags& flags);

}  // namespace poplar::store
