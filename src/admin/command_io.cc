#include "admin/command_io.h"

#include <iostream>

#include "admin/exit_codes.h"

namespace poplar::admin {

CommandIo default_command_io() {
  static TerminalPasswordSource terminal;
  return CommandIo{std::cout, std::cerr, terminal, SystemRandom::instance(), auth::HashOptions{}};
}

Result<std::string> read_and_hash_password(std::string_view scheme, CommandIo& io) {
  Result<Secret> password = io.passwords.read_new_password();
  if (!password) {
    return password.status();
  }
  return auth::hash_password(scheme, *password, io.random, io.hash_options);
}

int report_failure(CommandIo& io, std::string_view command, const Status& status) {
  io.err << "poplar " << command << ": " << status.message() << '\n';
  return exit_code_for(status);
}

}  // namespace poplar::admin
