// What the admin commands read and write, gathered so that tests can run a command with
// string streams, a scripted password and deterministic salts, and production code with the
// terminal, SystemRandom and the production hash costs.
//
// Thread-safety: holds references; the referenced objects must outlive every use.
#pragma once

#include <ostream>
#include <string>

#include "admin/password_input.h"
#include "auth/password_scheme.h"
#include "base/random.h"
#include "base/result.h"

namespace poplar::admin {

struct CommandIo {
  std::ostream& out;  // results: user names, hashes, confirmations
  std::ostream& err;  // error messages and warnings
  PasswordSource& passwords;
  Random& random;  // salts
  auth::HashOptions hash_options;
};

// std::cout, std::cerr, the terminal (or stdin), SystemRandom, default hash costs.
CommandIo default_command_io();

// Reads a new password from io.passwords and hashes it with `scheme`. The scheme must already
// have been checked with auth::is_supported_scheme(). Error codes: those of
// PasswordSource::read_new_password() and auth::hash_password().
Result<std::string> read_and_hash_password(std::string_view scheme, CommandIo& io);

// Prints "poplar <command>: <message>" on io.err and returns exit_code_for(status).
int report_failure(CommandIo& io, std::string_view command, const Status& status);

}  // namespace poplar::admin
