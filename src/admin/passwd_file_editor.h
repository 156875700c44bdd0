// Safe edits of the passwd-file for `poplar user add|passwd|del|list`. Every change is one
// transaction:
//
//   flock(PATH.lock, exclusive) → read PATH → change lines → write PATH.tmp (mode and owner of
//   the old file, 0600 for a new one) → fsync → rename over PATH → fsync the directory
//
// so a crash leaves either the old or the new file, never a torn one, and a running server
// (which reloads the file when its inode changes) never reads a half-written file. Lines other
// than the one changed are kept byte for byte: comments, blank lines, broken lines and
// Dovecot fields Poplar does not interpret.
//
// Error codes used (admin/exit_codes.h maps them to sysexits):
//   kInvalidInput  bad user name or field, or the user already exists (add)
//   kNotFound      the user does not exist (passwd, del)
//   kUnavailable   the passwd-file (or its directory) does not exist
//   kPermission    the OS refused access
//   kInUse         another editor holds the lock for longer than EditOptions::lock_timeout
//   kTemporary     any other I/O error
//
// Thread-safety: the functions share no state; concurrent edits of one file, from threads or
// processes, are serialised by the lock file.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_request.h"
#include "base/result.h"

namespace poplar::admin {

// Where `poplar user` and `poplar serve` look when not told otherwise (DESIGN §5).
inline constexpr std::string_view kDefaultPasswdFile = "/etc/poplar/users";

// User names: 1..255 octets (the POP3 command line is 255 octets, RFC 2449 §4), no ':' (the
// field separator), no white space or control characters (POP3 arguments are separated by
// spaces, and log lines would need quoting), and no leading '#' (a comment line).
inline constexpr size_t kMaxUserNameBytes = 255;

struct EditOptions {
  // How long to wait for another `poplar user` run to release the lock. Edits take
  // milliseconds, so 10 s only runs out when something is stuck.
  std::chrono::milliseconds lock_timeout{10000};
};

// kInvalidInput with a message saying what is wrong with the name.
Status validate_user_name(std::string_view name);

// The passwd-file line for a new user, Dovecot's layout: name:hash:uid:gid::home::extra,
// without trailing empty fields; uid/gid 0 are written as empty, mail as userdb_mail=....
// Error code: kInvalidInput (bad name; hash, home or mail that the line cannot hold).
Result<std::string> format_passwd_line(const auth::UserRecord& record, std::string_view hash);

// Adds a line for `record` with the stored password `hash` ("{SCHEME}..."). Creates the file
// (mode 0600) if it does not exist yet; its directory must exist.
Status add_user(const std::string& path, const auth::UserRecord& record, std::string_view hash,
                const EditOptions& options = {});

// Replaces the password field of the user's line, keeping every other field. If the name
// appears on several lines, the first one (the one the server uses) is changed.
Status set_password(const std::string& path, std::string_view name, std::string_view hash,
                    const EditOptions& options = {});

// Removes every line of the user.
Status delete_user(const std::string& path, std::string_view name, const EditOptions& options = {});

// Whether a non-comment line starts with "name:" (broken lines count: adding a second line for
// the name would be confusing). Error codes: kUnavailable (no file), kPermission, kTemporary.
Result<bool> user_exists(const std::string& path, std::string_view name);

struct UserList {
  std::vector<std::string> names;     // valid entries, in file order, each name once
  std::vector<std::string> warnings;  // "<path>:<line>: <reason>" for skipped lines
};
// The users of the file, without their passwords. No lock is needed: edits replace the file
// atomically. Error codes: kUnavailable, kPermission, kTemporary.
Result<UserList> list_users(const std::string& path);

}  // namespace poplar::admin
