// FolderTree: the Maildir++ folders of one user's Maildir (POP4 LFLD, CFLD, DFLD, RENF, MOVF;
// docs/formats/maildir.md "Folders"). INBOX is the Maildir root; every other folder is a
// Maildir of its own in a directory ".A.B" of the root (folder_name.h), with cur/, new/, tmp/
// and an empty `maildirfolder` file, as Dovecot and Courier lay it out, so that an IMAP server
// on the same Maildir sees the same folders.
//
// Locking: the POP4 session lock (`poplar.lock` of the root, taken by MaildirStore when the
// session opened INBOX) covers the user's whole Maildir. Every method here ASSUMES THE CALLER
// HOLDS IT, so no other Poplar session changes the tree meanwhile; other programs (an MTA
// delivering into a folder, an IMAP server) may, and each operation is written so that they
// never see a half-made folder or lose a message to it.
//
// Crash safety: a folder is created complete in the root's tmp/ and renamed into place, so a
// crash leaves either no folder or a whole one (at worst an unnamed directory under tmp/, which
// no reader looks at). A deleted folder is renamed out of sight into tmp/ first and emptied
// there. A rename moves each directory with one rename(2): every folder is at any moment wholly
// under its old name or wholly under its new one; an error undoes the renames already made.
//
// Must never: delete a message (DFLD refuses a folder that holds one, even one delivered while
// it deletes); touch anything outside the root; follow a name out of it (names are validated by
// folder_name.h); make OS calls except through fs::FileSystem.
//
// Thread-safety: one FolderTree is used by one thread at a time (the session's); it keeps no
// state but its configuration, so trees of different users are independent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/fs/file_system.h"
#include "store/maildir/folder_name.h"
#include "store/maildrop.h"

namespace poplar::store::maildir {

// The empty marker file in every Maildir++ folder (Courier's convention, kept by Dovecot):
// it tells an MDA delivering into the directory that it is a folder of a larger Maildir.
inline constexpr std::string_view kFolderMarkerName = "maildirfolder";

struct FolderEntry {
  std::string name;  // the wire name ("INBOX" first)
  std::string path;  // the folder's Maildir directory, for MailStore::open_maildrop
};

struct FolderSummary {
  uint64_t messages = 0;
  uint64_t octets = 0;  // the CRLF sizes, as STAT gives them
};

class FolderTree {
 public:
  // `root` is the user's Maildir (INBOX), without a trailing '/'. `fs` must outlive the tree;
  // production passes fs::posix_file_system().
  FolderTree(fs::FileSystem& fs, std::string root);

  // Every folder: INBOX first, then the directories ".…" of the root that hold a folder, by
  // wire name (bytewise, which is code point order for UTF-8). A directory whose name is not
  // one parse_folder_name() produces (".a..b", ".x&AGE-", ".INBOX") is not a folder and is left
  // out; so are files. Costs one listing of the root (plus a stat for each entry whose type the
  // file system does not report). Errors: kNotFound (no root), kPermission, kTemporary.
  Result<std::vector<FolderEntry>> list();

  // The folder's directory, without checking that it exists. Errors: kInvalidInput (bad name).
  Result<std::string> path_of(std::string_view wire_name) const;

  // CFLD: creates the folder and every missing parent, each complete before it gets its name.
  // Errors: kInvalidInput (bad name; INBOX or the folder already exist), kPermanent (something
  // that is not a directory holds the name), kNotFound (no root), kPermission, kTemporary.
  // After an error, the parents created before it stay (each a whole, empty folder).
  Status create(std::string_view wire_name);

  // DFLD: deletes a folder that holds no message and no subfolder. The caller must not have it
  // selected (open). Removes what else it holds: its tmp/ files, the maildirfolder marker, and
  // index or lock files (Poplar's, Dovecot's) in its directory. Errors: kInvalidInput (bad name,
  // INBOX, not empty, has subfolders), kNotFound (no such folder), kPermission, kTemporary.
  Status remove(std::string_view wire_name);

  // RENF: renames a folder and every folder beneath it (".Old" → ".New", ".Old.X" → ".New.X"),
  // creating missing parents of the new name. Errors: kInvalidInput (bad names, INBOX on either
  // side, the new name exists or lies beneath the old one, a renamed subfolder's name would
  // become too long or too deep), kNotFound (no such folder), kPermission, kTemporary (the
  // renames already made are undone).
  Status rename(std::string_view from, std::string_view to);

  // MOVF: moves a folder (and everything beneath it) under `parent`, "" for the top level;
  // the parent must exist. Errors: as rename(); kNotFound also for a missing parent.
  Status move_under(std::string_view wire_name, std::string_view parent);

 private:
  std::string join(std::string_view directory) const;
  // Makes one folder directory complete under tmp/ and renames it to `directory`.
  Status create_one(const std::string& directory);
  // A fresh name under the root's tmp/ for building or dismantling a folder; creates tmp/ when
  // it is missing.
  Result<std::string> make_staging_directory(std::string_view purpose);
  // Removes a staging directory made by create_one() or remove(), best effort.
  Status dismantle(const std::string& path);
  // True when new/ or cur/ of the Maildir at path holds a message (any name not starting '.').
  Result<bool> holds_messages(const std::string& path);
  // The directories of the root holding `directory` and everything beneath it.
  Result<std::vector<std::string>> subtree(const std::string& directory);

  fs::FileSystem& fs_;
  std::string root_;
  uint64_t staging_counter_ = 0;
};

// LFLD's numbers for one folder: what STAT would give right after selecting it. Opens the
// folder with store.open_maildrop(entry.path) (MaildirStore: the folder's own poplar.lock, its
// index; cost as a login: a few stat(2)s and one small read when its index is settled, a
// listing of new/ and cur/ otherwise, and a read of each message never sized before), then
// closes it. Not for INBOX or the selected folder: the session has those open (their locks
// conflict, kInUse); it takes their numbers from its own snapshot.
Result<FolderSummary> summarize_folder(MailStore& store, const FolderEntry& entry);

}  // namespace poplar::store::maildir
