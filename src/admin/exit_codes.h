// Exit codes of the admin commands, from sysexits(3), so scripts can tell a usage error from a
// missing file or a temporary failure:
//   64 EX_USAGE     bad command line: unknown scheme, invalid user name or option value
//   65 EX_DATAERR   the user already exists / does not exist, bad password input, bad field
//   66 EX_NOINPUT   the passwd-file does not exist, or no password was given on stdin
//   70 EX_SOFTWARE  an internal error
//   74 EX_IOERR     an I/O error reading or writing the passwd-file
//   75 EX_TEMPFAIL  the passwd-file is locked by another editor; try again
//   77 EX_NOPERM    the OS refused access
//
// Thread-safety: pure functions.
#pragma once

#include "base/status.h"
#include "base/sysexits.h"

namespace poplar::admin {

inline constexpr int kExitOk = sysexits::kOk;
inline constexpr int kExitUsage = sysexits::kUsage;
inline constexpr int kExitDataErr = sysexits::kDataErr;
inline constexpr int kExitNoInput = sysexits::kNoInput;
inline constexpr int kExitSoftware = sysexits::kSoftware;
inline constexpr int kExitIoErr = sysexits::kIoErr;
inline constexpr int kExitTempFail = sysexits::kTempFail;
inline constexpr int kExitNoPerm = sysexits::kNoPerm;

// The exit code for a Status from admin/passwd_file_editor.h or admin/password_input.h.
int exit_code_for(const Status& status);

}  // namespace poplar::admin
