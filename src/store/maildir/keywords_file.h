// The Maildir keywords file `<maildir>/dovecot-keywords`: which keyword each of the 26
// lower-case info letters stands for (letter 'a' + n is the keyword on the line "n <keyword>").
// Poplar reads and writes Dovecot's own file, in Dovecot's format, so that Dovecot run on the
// same Maildir sees the keywords Poplar set, and Poplar those that Dovecot set:
//
//   0 $Junk
//   1 $Label1
//
// Lines that do not parse, numbers of 26 or more and a number already seen are ignored on
// reading (Dovecot ignores bad lines too). A line whose name Poplar cannot use (not a keyword
// atom of message_flags.h, e.g. longer than 64 octets, or a keyword seen before) keeps its
// letter: the letter reads as unknown, is never given to another keyword, and the line is written
// back as it was. A keyword is never moved to another letter and no usable line is ever removed,
// because file names of messages Poplar does not touch use them. Letters that names use but the
// file does not map (a lost file) can be reserved, so a new keyword never takes them either.
//
// Writing uses Dovecot's dotlock as the temporary file: `dovecot-keywords.lock` is created with
// O_EXCL (so a Dovecot writing at the same moment makes Poplar fail with kTemporary instead of
// both writing), filled, fsynced and renamed over `dovecot-keywords`; then the Maildir is
// fsynced. A lock older than kStaleLockSeconds is a leftover of a crash and is removed.
//
// Must never: renumber or drop a mapping it read; write through a symbolic link; crash on any
// file content.
//
// Thread-safety: KeywordTable is a value; the functions are safe to call from any thread (the
// file system serializes nothing: the maildrop lock does).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "store/fs/file_system.h"

namespace poplar::store::maildir {

inline constexpr std::string_view kKeywordsFileName = "dovecot-keywords";
inline constexpr std::string_view kKeywordsLockFileName = "dovecot-keywords.lock";
// Letters 'a'..'z'.
inline constexpr size_t kMaxKeywords = 26;
// Dovecot's dotlocks count as stale after two minutes; a real write takes milliseconds.
inline constexpr int64_t kStaleLockSeconds = 120;
// The file holds at most 26 short lines; anything far bigger is not a keywords file.
inline constexpr uint64_t kMaxKeywordsFileBytes = 64 * 1024;

class KeywordTable {
 public:
  // Never fails: what does not parse is ignored (see above).
  static KeywordTable parse(std::string_view text);

  // The keyword of a letter 'a'..'z', or "" when the letter is unmapped (or not a-z).
  std::string_view keyword(char letter) const;
  // The letter of a keyword (compared case-insensitively), if it has one.
  std::optional<char> letter_of(std::string_view keyword) const;
  // The letter of `keyword`, giving it the first free letter when it has none.
  // REQUIRES: is_keyword_atom(keyword). Errors: kLimit (all 26 letters are taken).
  Result<char> add(std::string_view keyword);
  // Keeps add() from giving out `letter` ('a'..'z'; others are ignored): a name uses it.
  void reserve(char letter);
  // True when add() gave out a letter since parse().
  bool changed() const { return changed_; }
  // The file's text: a line per usable keyword in letter order, then the kept lines.
  std::string format() const;

 private:
  std::array<std::string, kMaxKeywords> names_{};  // usable keywords
  std::array<std::string, kMaxKeywords> kept_{};   // lines kept as they were (unusable names)
  std::array<bool, kMaxKeywords> reserved_{};      // letters add() must not give out
  bool changed_ = false;
};

// Reads the Maildir's keywords file. A missing file is an empty table. Errors: kPermission,
// kTemporary, kLimit (larger than kMaxKeywordsFileBytes).
Result<KeywordTable> read_keywords_file(fs::FileSystem& fs, const std::string& maildir);

// Replaces the file atomically with table.format() (see above). Errors: kTemporary (including
// a lock held by someone else), kPermission.
Status write_keywords_file(fs::FileSystem& fs, const std::string& maildir,
                           const KeywordTable& table);

}  // namespace poplar::store::maildir
