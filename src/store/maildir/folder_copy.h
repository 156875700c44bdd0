// Copying one message file into a folder (the store half of POP4 COPY and MOVE): the file gets
// a second name in the target Maildir with link(2) when the file system allows it (Dovecot's way:
// a Maildir message is never changed in place, so two names of one inode are two independent
// messages), and is copied through the target's tmp/ otherwise. It keeps its flags (the info
// part ":2,<letters>") and its subdirectory (new/ stays new/, cur/ stays cur/), and gets a fresh
// unique base name in the target, so it has its own UIDL there.
//
// Must never: change or remove the source; replace a file in the target (link(2) never does;
// the copy path checks that the name is free before a rename); leave a partial file in new/ or
// cur/ (a copy is synced in tmp/ before it gets its name). A crash leaves either no new message
// or the complete one, at worst a tmp/ file that readers ignore.
//
// Thread-safety: stateless but for a process-wide counter in unique names (atomic); any number
// of copies may run at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "store/fs/file_system.h"

namespace poplar::store::maildir {

struct CopyOptions {
  // The host part of the unique name; empty: this machine's name (fs::host_name()).
  std::string hostname{};
  // The P part of the unique name; 0: this process's id.
  uint64_t pid = 0;
  // Idempotent retries: a base name chosen by the caller (e.g. recorded before a first attempt)
  // instead of a fresh one. When the target already holds this exact name and it is the same
  // file (link: same device and inode) or a file of the same size (copy), the earlier attempt
  // is taken to have succeeded and nothing is done; a different file there is kInUse.
  // It must be a valid Maildir base name (no '/', no ':', not starting with '.').
  std::string base_name{};
  // POP4 COPY: the flags the copy is to have, as info letters (info_flags.h; only 'A'-'Z' and
  // 'a'-'z', keywords already registered in the TARGET's keywords file by the caller). With a
  // value, the copy gets exactly these: "" puts it in new/ without info, letters put it in
  // cur/ as "<base>:2,<letters>", whatever the source's info and directory were. Without a
  // value the copy keeps the source's info part and subdirectory.
  std::optional<std::string> info_letters{};
};

struct CopiedMessage {
  std::string path;     // the new file, relative to the target: "cur/<base>:2,S"
  std::string base;     // its base name (its UIDL, when short and plain: maildir.md "UIDLs")
  bool linked = false;  // a hard link, not a copy
};

// Copies the message at `source_path` (a file in new/ or cur/ of some Maildir) into the Maildir
// `target_root` (a folder's directory, or the root for INBOX). The new base name is
// "<secs>.M<usecs>P<pid>C<n>.<host>,S=<octets>[,W=<n>]" (W= carried over when the source name
// has it: the content is the same, so is its size on the wire); then new/ or cur/ of the target
// is fsynced before the call returns OK.
// Errors: kInvalidInput (a bad base_name or info_letters), kNotFound (no source, or the target
// lacks the subdirectory), kPermanent (the source is not a regular file), kInUse (base_name is
// taken by another file), kPermission, kTemporary (ENOSPC, EIO; nothing new is left in new/ or
// cur/).
Result<CopiedMessage> copy_message_file(fs::FileSystem& fs, const std::string& source_path,
                                        const std::string& target_root,
                                        const CopyOptions& options = {});

}  // namespace poplar::store::maildir
