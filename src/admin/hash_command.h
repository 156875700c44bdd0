// `poplar hash [-s SCHEME]` prints a stored-password value for a password read as
// admin/password_input.h describes, exactly as `doveadm pw -s SCHEME` would print it
// ("{SHA512-CRYPT}$6$..."), ready to paste into a passwd-file. `poplar hash --list` prints the
// supported schemes, one per line.
//
// Thread-safety: meant for the CLI's main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "admin/command_io.h"

namespace poplar::admin {

struct HashCommandOptions {
  std::string scheme{auth::kDefaultScheme};
  bool list = false;
};

// Returns a sysexits code (admin/exit_codes.h).
int run_hash(const HashCommandOptions& options, CommandIo& io);

// Registers `hash` on `app` with default_command_io().
void add_hash_command(CLI::App& app);
// The same with the given I/O; its referenced objects must outlive `app`.
void add_hash_command(CLI::App& app, const CommandIo& io);

}  // namespace poplar::admin
