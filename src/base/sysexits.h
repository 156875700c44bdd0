// The exit codes of sysexits(3), which every `poplar` command uses so that scripts and cron can
// tell a usage error from a temporary failure. One list, so no command spells a number anew.
//
// Thread-safety: constants.
#pragma once

namespace poplar::sysexits {

inline constexpr int kOk = 0;
inline constexpr int kUsage = 64;        // EX_USAGE: bad command line
inline constexpr int kDataErr = 65;      // EX_DATAERR: bad input data
inline constexpr int kNoInput = 66;      // EX_NOINPUT: an input file is missing
inline constexpr int kUnavailable = 69;  // EX_UNAVAILABLE: a service is unavailable
inline constexpr int kSoftware = 70;     // EX_SOFTWARE: an internal error
inline constexpr int kOsErr = 71;        // EX_OSERR: an operating system error
inline constexpr int kIoErr = 74;        // EX_IOERR: an input/output error
inline constexpr int kTempFail = 75;     // EX_TEMPFAIL: temporary failure, try again later
inline constexpr int kProtocol = 76;     // EX_PROTOCOL: the peer broke the protocol
inline constexpr int kNoPerm = 77;       // EX_NOPERM: permission denied
inline constexpr int kConfig = 78;       // EX_CONFIG: configuration error

}  // namespace poplar::sysexits
