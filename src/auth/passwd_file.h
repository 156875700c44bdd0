// The Dovecot-compatible passwd-file: one user per line,
//
//   user:password:uid:gid:gecos:home:shell:extra_fields
//
// where trailing fields may be left out, '#' starts a comment line, blank lines are ignored, and
// extra_fields is a space-separated list of key=value (or bare key) tokens. docs/formats/
// passwd-file.md is the full description. Parsing is pure (parse_passwd_line/parse_passwd_text);
// PasswdFile adds loading, caching and automatic reloading for the server.
//
// Stored passwords are sensitive ({PLAIN} values are cleartext), so they are held in a Secret,
// and parse errors name the line number and the reason but never quote the line.
//
// Thread-safety: the free functions are pure. PasswdFile is safe for concurrent use from any
// number of threads (the server calls it from its worker pool).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_request.h"
#include "base/clock.h"
#include "base/result.h"
#include "base/secret.h"

namespace poplar::auth {

// One valid line of a passwd-file.
struct PasswdEntry {
  UserRecord user;
  // The password field as written: "{SCHEME}data", or bare crypt(3) data (scheme CRYPT).
  // May be empty, which means the user cannot log in with a password.
  Secret password;
  std::string gecos;
  std::string shell;
  // Extra-field tokens that Poplar does not interpret (e.g. "nodelay", "allow_nets=..."), kept
  // verbatim in file order. Recognised: userdb_mail, userdb_home, userdb_uid, userdb_gid, which
  // override the corresponding UserRecord fields, as in Dovecot.
  std::vector<std::string> extra_fields;
  size_t line_number = 0;  // 1-based, for messages
};

// Parses one line (without its line end; a trailing CR is ignored). The caller skips comments
// and blank lines. Error code: kCorrupt, with a message that names the problem and never
// contains the line's text.
Result<PasswdEntry> parse_passwd_line(std::string_view line);

struct ParsedPasswdFile {
  std::vector<PasswdEntry> entries;  // valid lines in file order, duplicates included
  // One message per skipped line: "<name>:<line>: <reason>".
  std::vector<std::string> errors;
};

// Parses a whole file. `name` (usually the path) prefixes the error messages.
ParsedPasswdFile parse_passwd_text(std::string_view text, std::string_view name);

// True for a comment line or a line of only white space.
bool is_passwd_comment_or_blank(std::string_view line);

// A passwd-file loaded into memory and reloaded when it changes on disk. A user who appears on
// several lines is taken from the first, as Dovecot does (and a warning is logged); a broken
// line is skipped with a warning and does not affect the other users.
class PasswdFile {
 public:
  // How often lookups may stat(2) the file to notice a change. Once a second keeps the cost of a
  // login burst at one syscall per second while an edit is seen almost at once.
  static constexpr std::chrono::seconds kCheckInterval{1};

  // Does not touch the file: the first lookup loads it. `clock` must outlive this object.
  PasswdFile(std::string path, const Clock& clock);
  ~PasswdFile();
  PasswdFile(const PasswdFile&) = delete;
  PasswdFile& operator=(const PasswdFile&) = delete;

  // Looks up a user by exact, case-sensitive name, reloading the file first when it has changed
  // (checked at most once per kCheckInterval).
  // Error codes: kNotFound (no such user), kTemporary (the file cannot be read; the message
  // names the path and the OS error).
  Result<PasswdEntry> lookup(std::string_view name);

  // The stored password to verify against when the user is unknown, so that an unknown name
  // costs as much time as a known one: the value of the first entry whose hash_cost_class() is
  // the most common in the file, or a fixed SHA512-CRYPT hash when the file has none. Its
  // verification result must be ignored.
  Secret timing_dummy();

  // True when every entry's scheme and the timing dummy are cheap to verify
  // (is_cheap_to_verify): then no password check of this file can stall an event loop, and
  // known and unknown users cost the same wherever they are checked.
  bool all_cheap_to_verify();

  // Checks the file now, ignoring kCheckInterval, and reloads it if it changed.
  // Error code: kTemporary (the file cannot be read).
  Status reload();

  // Number of distinct users after the last load (0 when the file is unreadable).
  size_t user_count();

  const std::string& path() const { return path_; }

 private:
  struct Snapshot;
  // The current snapshot, reloading first when due (or when `force`).
  std::shared_ptr<const Snapshot> current(bool force);
  std::shared_ptr<const Snapshot> load(const std::shared_ptr<const Snapshot>& previous) const;

  const std::string path_;
  const Clock& clock_;
  // Serialises loaders, so that one thread reads the file while the others keep using the
  // previous snapshot instead of piling up behind it.
  std::mutex load_mutex_;
  // Guards snapshot_ and last_check_ (held only for pointer swaps and time checks).
  std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace poplar::auth
