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
#include "store/folder_name_rules.h"

namespace poplar::store::maildir {

// The wire rules are every backend's (store/folder_name_rules.h); they are named here too, so
// Maildir code reads as before.
using store::decode_modified_utf7;
using store::encode_modified_utf7;
using store::folder_leaf;
using store::folder_parent;
using store::is_inbox_name;
using store::kInboxName;
using store::kMaxFolderLevels;
using store::kWireSeparator;

// The longest directory name (the encoded ".A.B" form) a folder may have: the rules' bound on
// the encoded name, which is exactly this directory name.
inline constexpr size_t kMaxFolderDirectoryOctets = store::kMaxEncodedFolderNameOctets;

// The hierarchy separator on disk (Maildir++).
inline constexpr char kDiskSeparator = '.';

struct FolderName {
  // The canonical wire name: as given, except that INBOX in any case is "INBOX".
  std::string wire;
  // The directory in the Maildir root: ".A.B" in modified UTF-7; "" for INBOX.
  std::string directory;
  size_t levels = 0;  // 1 for INBOX and top-level folders

  bool is_inbox() const { return directory.empty(); }
};

// Validates a wire name (check_folder_name(): every rule and error is there) and computes its
// directory.
Result<FolderName> parse_folder_name(std::string_view wire_name);

// The folder held by a directory entry of the Maildir root (".A.B"). kInvalidInput for
// anything parse_folder_name() would not have produced: no leading '.', empty levels, ill-formed
// or non-canonical modified UTF-7 (e.g. "&AGE-" for "a", two encoded runs back to back), a
// decoded name that breaks the wire rules, ".INBOX..." (not reachable from the wire). Such
// directories (written by hand or by another program) are not listed as folders.
Result<FolderName> parse_folder_directory(std::string_view directory_name);

}  // namespace poplar::store::maildir
