// Reading a new password for `poplar user add|passwd` and `poplar hash`. Passwords never come
// from the command line (argv is visible to every user through ps and /proc): on a terminal
// they are typed twice with echo off; otherwise the first line of standard input is the
// password, so scripts can pipe it in (`printf '%s\n' "$pw" | poplar user add alice`).
//
// Thread-safety: TerminalPasswordSource changes terminal settings and signal handlers for the
// duration of a prompt; use it from one thread (it is meant for the CLI's main thread).
#pragma once

#include <cstddef>

#include "base/result.h"
#include "base/secret.h"

namespace poplar::admin {

// Longer input is refused rather than silently cut: no real password is this long, and a file
// piped in by mistake should not become one.
inline constexpr size_t kMaxPasswordBytes = 4096;

class PasswordSource {
 public:
  virtual ~PasswordSource() = default;
  // A new, non-empty password.
  // Error codes: kInvalidInput (empty, too long, or the two entries differ), kUnavailable (no
  // input at all), kTemporary (read error).
  virtual Result<Secret> read_new_password() = 0;
};

// The terminal (/dev/tty, else standard input if it is a terminal) with echo off and a
// confirmation prompt; standard input's first line when it is not a terminal.
class TerminalPasswordSource final : public PasswordSource {
 public:
  Result<Secret> read_new_password() override;
};

// Reads one line from `fd` up to '\n' or end of input, without the line end (a CR before the
// LF is dropped too). Reads byte by byte, so nothing after the line is consumed.
// Error codes: kUnavailable (end of input before any byte), kInvalidInput (empty line, or more
// than kMaxPasswordBytes), kTemporary (read error).
Result<Secret> read_password_line(int fd);

}  // namespace poplar::admin
