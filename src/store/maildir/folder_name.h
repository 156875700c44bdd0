// Folder names of a Maildir++ tree (POP4 FOLDERS): the wire name a client uses (UTF-8 or ASCII,
// levels separated by '/', as POP4.md defines it after unquoting) and the directory that holds
// the folder in the Maildir root, laid out as Dovecot's LAYOUT=maildir++ does it:
//   wire "Archive"          → ".Archive"
//   wire "Work/2024"        → ".Work.2024"
//   wire "Entwürfe"         → ".Entw&APw-rfe"   (modified UTF-7, RFC 3501 §5.1.3)
//   wire "INBOX" (any case) → ""                (the Maildir root itself)
// Maildir++ uses '.' as its hierarchy separator on disk, so a '.' inside a level cannot be
// represented; like Dovecot without its listescape plugin, such names are refused
// (docs/formats/maildir.md, "Folders").
//
// Every name that parse_folder_name() accepts survives the round trip wire → directory → wire
// unchanged (except INBOX, which becomes "INBOX"), and every directory name that
// parse_folder_directory() accepts is exactly the one parse_folder_name() would produce: one
// folder has one directory, never two spellings (tests/fuzz/fuzz_folder_name.cc checks both).
//
// Must never: touch the file system; accept a name whose directory could leave the Maildir
// root ('/', "..", NUL) or exceed NAME_MAX; put the rejected name into an error message (it may
// be megabytes long or hold control characters: the messages only say what is wrong).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace poplar::store::maildir {

// The levels a folder name may have. Dovecot refuses to create a mailbox deeper than 20 levels
// (MAILBOX_MAX_HIERARCHY_LEVELS in its lib-storage) so that a user cannot build a tree whose
// renames later produce names too long to use; Poplar takes the same bound, so that every folder
// it creates is one Dovecot would create too, and a CFLD creates at most this many directories.
inline constexpr size_t kMaxFolderLevels = 20;

// The longest directory name (the encoded ".A.B" form) a folder may have: NAME_MAX of Linux
// file systems (ext4, XFS, btrfs, tmpfs). Counted after encoding, which is what the kernel sees.
inline constexpr size_t kMaxFolderDirectoryOctets = 255;

// The hierarchy separators: on the wire (POP4.md) and on disk (Maildir++).
inline constexpr char kWireSeparator = '/';
inline constexpr char kDiskSeparator = '.';

inline constexpr std::string_view kInboxName = "INBOX";

struct FolderName {
  // The canonical wire name: as given, except that INBOX in any case is "INBOX".
  std::string wire;
  // The directory in the Maildir root: ".A.B" in modified UTF-7; "" for INBOX.
  std::string directory;
  size_t levels = 0;  // 1 for INBOX and top-level folders

  bool is_inbox() const { return directory.empty(); }
};

// Validates a wire name and computes its directory. Errors (all kInvalidInput, the message says
// which rule): empty name, '/' at either end, an empty level ("a//b"), a level "." or "..", NUL
// or another control character (U+0000-U+001F, U+007F-U+009F), invalid UTF-8 (overlong forms,
// surrogates, beyond U+10FFFF, cut sequences), '.' inside a level (Maildir++ cannot store it),
// '~' at the start (Dovecot refuses it: shells and configs expand it to a home directory),
// folders beneath INBOX (INBOX is the Maildir root; "INBOX/x" has no Maildir++ directory),
// more than kMaxFolderLevels levels, a directory name longer than kMaxFolderDirectoryOctets.
Result<FolderName> parse_folder_name(std::string_view wire_name);

// The folder held by a directory entry of the Maildir root (".A.B"). kInvalidInput for
// anything parse_folder_name() would not have produced: no leading '.', empty levels, ill-formed
// or non-canonical modified UTF-7 (e.g. "&AGE-" for "a", two encoded runs back to back), a
// decoded name that breaks the wire rules, ".INBOX..." (not reachable from the wire). Such
// directories (written by hand or by another program) are not listed as folders.
Result<FolderName> parse_folder_directory(std::string_view directory_name);

// True when the wire name is INBOX in any case (without validating anything else).
bool is_inbox_name(std::string_view wire_name);

// The wire name without its last level ("" for a top-level folder) and its last level.
// REQUIRES: a canonical wire name (FolderName::wire).
std::string_view folder_parent(std::string_view wire_name);
std::string_view folder_leaf(std::string_view wire_name);

// RFC 3501 §5.1.3 modified UTF-7 of one level, exposed for tests: printable ASCII (0x20-0x7E)
// stands for itself except '&', which is "&-"; every other run of characters is '&', the
// modified BASE64 (',' for '/', no '=' padding) of its UTF-16BE code units, and '-'.
// REQUIRES for encode: valid UTF-8 (parse_folder_name checks it first).
std::string encode_modified_utf7(std::string_view utf8);
// Strict decoding, so that what decodes re-encodes to the same text: kInvalidInput for a '&'
// run without its '-', characters outside the alphabet, non-zero or too many padding bits,
// unpaired surrogates, encoded printable ASCII, and two encoded runs back to back.
Result<std::string> decode_modified_utf7(std::string_view mutf7);

}  // namespace poplar::store::maildir
