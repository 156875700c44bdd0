#include "admin/exit_codes.h"

#include <sysexits.h>

namespace poplar::admin {

static_assert(kExitUsage == EX_USAGE && kExitDataErr == EX_DATAERR && kExitNoInput == EX_NOINPUT &&
              kExitSoftware == EX_SOFTWARE && kExitIoErr == EX_IOERR &&
              kExitTempFail == EX_TEMPFAIL && kExitNoPerm == EX_NOPERM);

int exit_code_for(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return kExitOk;
    case ErrorCode::kInvalidInput:
    case ErrorCode::kNotFound:
    case ErrorCode::kCorrupt:
      return kExitDataErr;
    case ErrorCode::kUnavailable:
      return kExitNoInput;
    case ErrorCode::kPermission:
      return kExitNoPerm;
    case ErrorCode::kInUse:
      return kExitTempFail;
    case ErrorCode::kTemporary:
      return kExitIoErr;
    default:
      return kExitSoftware;
  }
}

}  // namespace poplar::admin
