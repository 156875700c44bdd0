// Message flags in a Maildir file name's info part (`<base>:2,<letters>`), the convention of
// https://cr.yp.to/proto/maildir.html extended as Dovecot does:
//
//   D \Draft   F \Flagged   P $Forwarded ("passed")   R \Answered   S \Seen   T \Deleted
//   a..z       keywords, through the keywords file (keywords_file.h)
//
// Letters are written in ASCII order, each once. Letters Poplar does not know (other capitals,
// digits, lower-case letters the keywords file does not map) are kept as they are when flags
// change, as Dovecot keeps them. An info part that does not start with "2," (the experimental
// ":1," semantics, or garbage) carries no flags; a flag change replaces it with ":2,<letters>".
//
// Must never: touch the file system; drop a letter it does not understand; allocate when the
// info has no keyword letters (the common case) beyond the result's keywords.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "store/maildir/keywords_file.h"
#include "store/message_flags.h"

namespace poplar::store::maildir {

// The letters after ":2," in a file name ("" when there are none or the info is not "2,").
std::string_view info_letters(std::string_view file_name);

// True when the letters contain a lower-case letter (so the keywords file is needed to read
// them).
bool has_keyword_letters(std::string_view letters);

// The flags the letters stand for. `table` may be null when has_keyword_letters() is false
// (or the table could not be read: lower-case letters then count as unknown).
MessageFlags flags_from_letters(std::string_view letters, const KeywordTable* table);

// The letters for `flags` on a file whose current letters are `old_letters`: the flags' letters
// (keywords through `table`, which gives new keywords a letter) and the old letters Poplar does
// not know. Errors: kLimit (a keyword got no letter: all 26 are taken).
Result<std::string> letters_for(const MessageFlags& flags, std::string_view old_letters,
                                KeywordTable& table);

// `<base>:2,<letters>`.
std::string name_with_letters(std::string_view base, std::string_view letters);

}  // namespace poplar::store::maildir
