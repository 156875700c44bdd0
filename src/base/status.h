// Status: the outcome of an operation that can fail, as a value (no exceptions across module
// boundaries). OK costs nothing but an enum; an error carries a semantic ErrorCode and a
// message for the log. The message is for operators: it may name files and errno text, so it
// must never reach a client verbatim (pop3/error_mapping turns codes into wire text) and must
// never hold a secret (see base/secret.h).
//
// Thread-safety: a value type; distinct objects may be used from distinct threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace poplar {

// What went wrong, by meaning rather than by origin. pop3/error_mapping.cc is the one place that
// maps these to RFC 2449 / RFC 3206 response codes.
enum class ErrorCode {
  kOk = 0,
  kTemporary,     // may work if retried later: I/O error, resource exhaustion ([SYS/TEMP])
  kPermanent,     // will not work without an admin: corrupt maildrop, bad permissions ([SYS/PERM])
  kNotFound,      // the named thing does not exist (a message, a user, a file)
  kInUse,         // a lock is held by someone else ([IN-USE])
  kPermission,    // the OS refused access (EACCES/EPERM)
  kLimit,         // a configured limit was hit (line length, connections, message size)
  kCorrupt,       // stored data is malformed (index file, passwd-file line)
  kInvalidInput,  // the caller's or the peer's input is malformed
  kAuthFailed,    // credentials did not verify ([AUTH])
  kUnavailable,   // the service or feature is not available (not configured, not supported)
  kLoginDelay,    // logged in too recently ([LOGIN-DELAY])
};

std::string_view error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status ok() { return Status(); }
  static Status error(ErrorCode code, std::string message) {
    return Status(code, std::move(message));
  }
  static Status temporary(std::string m) { return error(ErrorCode::kTemporary, std::move(m)); }
  static Status permanent(std::string m) { return error(ErrorCode::kPermanent, std::move(m)); }
  static Status not_found(std::string m) { return error(ErrorCode::kNotFound, std::move(m)); }
  static Status in_use(std::string m) { return error(ErrorCode::kInUse, std::move(m)); }
  static Status invalid_input(std::string m) {
    return error(ErrorCode::kInvalidInput, std::move(m));
  }
  static Status corrupt(std::string m) { return error(ErrorCode::kCorrupt, std::move(m)); }
  // An OS error: errno is mapped to a code (ENOENT → kNotFound, EACCES → kPermission,
  // ENOSPC/EIO/… → kTemporary) and `what` (e.g. "open /path") is prefixed to strerror.
  static Status from_errno(int err, std::string_view what);

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "ok" or "<code name>: <message>", for logs.
  std::string to_string() const;

 private:
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

}  // namespace poplar
