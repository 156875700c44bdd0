#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace poplar {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kTemporary:
      return "temporary";
    case ErrorCode::kPermanent:
      return "permanent";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kInUse:
      return "in-use";
    case ErrorCode::kPermission:
      return "permission";
    case ErrorCode::kLimit:
      return "limit";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kInvalidInput:
      return "invalid-input";
    case ErrorCode::kAuthFailed:
      return "auth-failed";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kLoginDelay:
      return "login-delay";
  }
  return "unknown";
}

Status Status::from_errno(int err, std::string_view what) {
  ErrorCode code = ErrorCode::kTemporary;
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      code = ErrorCode::kNotFound;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = ErrorCode::kPermission;
      break;
    case EWOULDBLOCK:
      code = ErrorCode::kInUse;
      break;
    default:
      code = ErrorCode::kTemporary;
      break;
  }
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return Status(code, std::move(message));
}

std::string Status::to_string() const {
  if (is_ok()) {
    return "ok";
  }
  std::string s(error_code_name(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace poplar
