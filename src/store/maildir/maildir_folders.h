// MaildirFolders: POP4 FOLDERS (store/folders.h) over a user's Maildir, the Folders that the
// INBOX MaildirMaildrop offers (Maildrop::folders()). It puts together the Maildir halves:
// FolderTree for the tree (Maildir++ as Dovecot lays it out, folder_tree.h), summarize_folder
// for counts, MaildirMaildrop for a folder's snapshot (its own poplar.lock, folders() nullptr),
// copy_message_file for COPY (a link of the source file where possible) and
// begin_maildir_delivery for STOR. docs/formats/maildir.md ("STOR and COPY") says what is
// written where.
//
// Flags of a copied or stored message: exactly those passed. System flags and $Forwarded are
// info letters (info_flags.h); keywords are registered in the TARGET folder's dovecot-keywords
// (keywords_file.h) before any file name uses their letters, so a crash never leaves a name
// with an unmapped letter. A letter that messages of the target use but the file does not map
// (a lost file) is never given to a new keyword. A 27th keyword is kLimit and nothing is copied
// or stored. No flags: the message goes to new/ without info, like a delivery; flags: to cur/
// as "<base>:2,<letters>".
//
// Copying from a Maildrop that is not a MaildirMaildrop (another backend) reads it through
// open_message() and stores it like STOR (a new file through tmp/), since there is no file to
// link.
//
// Must never: change a source message; leave a partial message in new/ or cur/ (links and
// deliveries give only complete, synced files a name; a STOR writer destroyed before commit()
// removes its tmp/ file); create a folder that was not asked for (open() and counts() of a
// missing folder are kNotFound, never a fresh Maildir).
//
// Thread-safety: one thread at a time (Folders' contract). It assumes the INBOX lock that its
// owner holds (folder_tree.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/folders.h"
#include "store/fs/file_system.h"
#include "store/maildir/folder_tree.h"
#include "store/maildir/maildir_store.h"

namespace poplar::store::maildir {

class MaildirFolders final : public Folders {
 public:
  // `root` is the user's Maildir (INBOX), without a trailing '/'; `fs` must outlive this.
  MaildirFolders(fs::FileSystem& fs, std::string root);

  Result<std::vector<std::string>> list() override;
  Result<FolderCounts> counts(std::string_view name) override;
  Result<MaildropPtr> open(std::string_view name) override;
  Status create(std::string_view name) override;
  Status remove(std::string_view name) override;
  Status rename(std::string_view from, std::string_view to) override;
  Status move_under(std::string_view name, std::string_view parent) override;
  Status copy_message(Maildrop& source, size_t index, std::string_view target,
                      const MessageFlags& flags) override;
  Result<FolderMessageWriterPtr> begin_store(std::string_view target,
                                             const MessageFlags& flags) override;

 private:
  // The Maildir directory of an existing folder ("" is never returned: INBOX is root_).
  // Errors: kInvalidInput (bad name; INBOX unless allowed), kNotFound, kPermission, kTemporary.
  Result<std::string> existing_folder(std::string_view name, bool inbox_allowed);
  // The info letters for `flags` in the Maildir `folder`, registering new keywords in its
  // dovecot-keywords first. Errors: kLimit, kTemporary, kPermission.
  Result<std::string> letters_in(const std::string& folder, const MessageFlags& flags);
  // STOR's writer into the Maildir `folder`.
  Result<FolderMessageWriterPtr> begin_store_in(const std::string& folder,
                                                const MessageFlags& flags);

  fs::FileSystem& fs_;
  std::string root_;
  FolderTree tree_;
  MaildirStore store_;  // for summarize_folder
};

}  // namespace poplar::store::maildir
