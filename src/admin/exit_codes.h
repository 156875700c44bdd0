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

namespace poplar::admin {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;
inline constexpr int kExitDataErr = 65;
inline constexpr int kExitNoInput = 66;
inline constexpr int kExitSoftware = 70;
inline constexpr int kExitIoErr = 74;
inline constexpr int kExitTempFail = 75;
inline constexpr int kExitNoPerm = 77;

// The exit code for a Status from admin/passwd_file_editor.h or admin/password_input.h.
int exit_code_for(const Status& status);

}  // namespace poplar::admin
