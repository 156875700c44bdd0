// Delivery into a Maildir (https://cr.yp.to/proto/maildir.html): a new message is written to
// tmp/<unique>, fsynced, then given its final name in new/ with link(2) (which never replaces a
// name; rename(2) only where the file system has no hard links, after checking the name is
// free), and new/ is fsynced (or, for group commit, left to the caller's sync_new_directory()
// once per batch). The final name is
//   <unix secs>.M<usecs>P<pid>Q<counter>.<host>,S=<stored octets>,W=<CRLF octets>
// so that Poplar's own server takes the LIST size from the name and never reads the file
// (store/maildir/file_name.h, docs/formats/maildir.md "Delivery").
//
// With DeliveryOptions::info_letters the message goes to cur/ instead, as
// "<name>:2,<letters>" (POP4 STOR with flags), by the same steps.
//
// A crash at any point leaves either nothing in new/ (cur/) or the complete message there; at
// worst a file in tmp/, which readers ignore (Dovecot and Poplar clean tmp/ files older than 36
// hours).
//
// Must never: overwrite an existing file, put a partial file in new/ or cur/, or hold the
// message in memory (at most 64 KiB is buffered between writes).
//
// Thread-safety: a writer is used by one thread at a time; any number of writers (threads or
// processes) may deliver into one Maildir at once, since their names differ.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "store/fs/file_system.h"
#include "store/message_writer.h"

namespace poplar::store::maildir {

struct DeliveryOptions {
  // The host part of the unique name; empty: this machine's name (fs::host_name()).
  std::string hostname{};
  // The P part of the unique name; 0: this process's id.
  uint64_t pid = 0;
  // False: the caller has made the Maildir (make_maildir) and begin skips the mkdirs.
  bool create_directories = true;
  // False: commit() links into new/ without syncing new/; the delivery is durable only after
  // the caller's sync_new_directory(). For group commit: one directory fsync for a batch of
  // messages, before any of them is counted as delivered (poplar fetch).
  bool sync_new_directory = true;
  // The message's flags as Maildir info letters (info_flags.h, e.g. "Sa"; only 'A'-'Z' and
  // 'a'-'z'). Empty: the message goes to new/ without info, as an MDA delivers it. Otherwise it
  // goes to cur/ as "<name>:2,<letters>" (POP4 STOR with flags: a message with flags has been
  // seen by a client, which is what cur/ means), and cur/ is the directory synced.
  std::string info_letters{};
};

// Creates the Maildir (root, tmp/, new/, cur/, mode 0700) where missing and syncs the
// directories that got a new entry. Errors: kNotFound (a missing parent), kPermission,
// kTemporary.
Status make_maildir(fs::FileSystem& fs, const std::string& maildir_root);

// fsync of <maildir_root>/new: makes the names linked there by commits without
// sync_new_directory durable. Errors: kTemporary, kPermission, kNotFound.
Status sync_new_directory(fs::FileSystem& fs, const std::string& maildir_root);

// Creates the Maildir (root, tmp/, new/, cur/, mode 0700) where missing, and tmp/<unique>
// (mode 0600). Only the last component of maildir_root is created: a missing parent is
// kNotFound. Errors: kInvalidInput (info_letters other than letters), kNotFound, kPermission,
// kTemporary.
Result<MessageWriterPtr> begin_maildir_delivery(fs::FileSystem& fs, std::string maildir_root,
                                                DeliveryOptions options = {});

// A tmp/ file older than this is taken to be left by a delivery that died (qmail's and
// Dovecot's rule): no honest delivery writes one file for 36 hours.
inline constexpr int64_t kStaleTmpFileNs = int64_t{36} * 3600 * 1'000'000'000;

// Removes the regular files in <maildir_root>/tmp/ whose mtime is older than kStaleTmpFileNs
// (dot-files and other types are left alone). Meant to be called once per run of a delivering
// program (not per message: it lists the directory). Returns how many it removed. A file that
// vanishes meanwhile is skipped. Errors: kNotFound (no tmp/), kPermission, kTemporary (the
// listing failed; a failed stat or unlink of one file only skips that file).
Result<size_t> clean_stale_tmp_files(fs::FileSystem& fs, const std::string& maildir_root);

// The host name as it goes into a unique name: '/' becomes "\057", ':' "\072" (the Maildir
// rules), ',' "\054" (so the name's ",S=" and ",W=" fields are the only commas) and '\' and
// every octet outside 0x21-0x7E "\ooo" too. Empty → "localhost".
std::string encode_host_for_maildir(std::string_view host);

}  // namespace poplar::store::maildir
