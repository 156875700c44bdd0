// The rules of POP4 folder names (POP4.md "Common syntax"; docs/formats/maildir.md "Folders")
// that every store backend applies, so that a name one backend accepts is one every backend
// accepts: the wire name a client uses after unquoting (UTF-8 or ASCII, levels separated by
// '/', "INBOX" in any case for the inbox), checked level by level, and its length counted in
// IMAP's modified UTF-7 (RFC 3501 §5.1.3), the form in which IMAP servers (and Maildir++
// directories, store/maildir/folder_name.h) hold it.
//
// The rules follow Dovecot's, so that every folder Poplar makes is one Dovecot on the same
// Maildir makes and shows the same way: at most 20 levels, '.' refused inside a level
// (Maildir++ uses it as its separator on disk; a memory store refuses it too, so tests of the
// layers above see the same answers), '~' refused at the start.
//
// Must never: touch the file system; put the rejected name into an error message (it may be
// megabytes long or hold control characters: the messages only say which rule it broke); read
// past its input, or allocate in proportion to more than its input.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace poplar::store {

// The levels a folder name may have. Dovecot refuses to create a mailbox deeper than 20 levels
// (MAILBOX_MAX_HIERARCHY_LEVELS in its lib-storage) so that a user cannot build a tree whose
// renames later produce names too long to use; Poplar takes the same bound, so that every folder
// it creates is one Dovecot would create too, and a CFLD creates at most this many folders.
inline constexpr size_t kMaxFolderLevels = 20;

// The longest a name may be in its encoded form: each level in modified UTF-7 with one
// separator octet before it (".A.B", which is exactly its Maildir++ directory name). NAME_MAX of
// Linux file systems (ext4, XFS, btrfs, tmpfs), counted after encoding, which is what the
// kernel sees.
inline constexpr size_t kMaxEncodedFolderNameOctets = 255;

// The hierarchy separator on the wire (POP4.md).
inline constexpr char kWireSeparator = '/';

inline constexpr std::string_view kInboxName = "INBOX";

struct CheckedFolderName {
  // The canonical wire name: as given, except that INBOX in any case is "INBOX".
  std::string wire;
  size_t levels = 0;  // 1 for INBOX and top-level folders
  bool inbox = false;
};

// Validates a wire name. Errors (all kInvalidInput, the message says which rule): empty name,
// '/' at either end, an empty level ("a//b"), a level "." or "..", NUL or another control
// character (U+0000-U+001F, U+007F-U+009F), invalid UTF-8 (overlong forms, surrogates, beyond
// U+10FFFF, cut sequences), '.' inside a level, '~' at the start (Dovecot refuses it: shells
// and configs expand it to a home directory), folders beneath INBOX, more than
// kMaxFolderLevels levels, an encoded form longer than kMaxEncodedFolderNameOctets.
Result<CheckedFolderName> check_folder_name(std::string_view wire_name);

// True when the wire name is INBOX in any case (without validating anything else).
bool is_inbox_name(std::string_view wire_name);

// The wire name without its last level ("" for a top-level folder) and its last level.
// REQUIRES: a canonical wire name (CheckedFolderName::wire).
std::string_view folder_parent(std::string_view wire_name);
std::string_view folder_leaf(std::string_view wire_name);

// RFC 3501 §5.1.3 modified UTF-7 of one level: printable ASCII (0x20-0x7E) stands for itself
// except '&', which is "&-"; every other run of characters is '&', the modified BASE64 (','
// for '/', no '=' padding) of its UTF-16BE code units, and '-'.
// REQUIRES for encode: valid UTF-8 (check_folder_name checks it first).
std::string encode_modified_utf7(std::string_view utf8);
// Strict decoding, so that what decodes re-encodes to the same text: kInvalidInput for a '&'
// run without its '-', characters outside the alphabet, non-zero or too many padding bits,
// unpaired surrogates, encoded printable ASCII, and two encoded runs back to back.
Result<std::string> decode_modified_utf7(std::string_view mutf7);

}  // namespace poplar::store
