// Where `poplar fetch` gets an account's password (DESIGN §6): the first line of a file, the
// first line printed by a command (`password_command`, e.g. `pass show mail/work` or
// `secret-tool lookup ...`: the way to use a keyring), or the POPLAR_PASSWORD environment
// variable. Never the command line (argv is world-readable in /proc), never a log.
//
// A trailing CR is dropped with the line end (a file written on Windows); nothing else is
// trimmed, since spaces may belong to the password. Buffers that held the password are wiped.
//
// Must never: put the password into an error message, or wait without bound for a command.
//
// Thread-safety: safe from any thread; each call owns what it opens or starts.
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"
#include "base/secret.h"

namespace poplar::fetch {

struct PasswordSource {
  enum class Kind { kFile, kCommand, kEnvironment };
  Kind kind = Kind::kEnvironment;
  std::string where;  // the file or the command; unused for kEnvironment
};

// Errors (messages name the source, never the password):
//  - file: kNotFound/kPermission (cannot read), kInvalidInput (empty first line);
//  - command: kTemporary (cannot start it, it exited 75, it was killed, or it ran longer than
//    `timeout` and was killed), kInvalidInput (any other non-zero exit, or no output);
//  - environment: kInvalidInput when POPLAR_PASSWORD is unset.
Result<Secret> read_password(const PasswordSource& source,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace poplar::fetch
