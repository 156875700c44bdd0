// `poplar user add|passwd|del|list`: managing the passwd-file from the command line.
//
//   poplar user add NAME [-f PATH] [-s SCHEME] [--uid N] [--gid N] [--home DIR] [--mail LOC]
//   poplar user passwd NAME [-f PATH] [-s SCHEME]
//   poplar user del NAME [-f PATH]
//   poplar user list [-f PATH]
//
// PATH defaults to /etc/poplar/users and SCHEME to ARGON2ID. Passwords are read as
// admin/password_input.h describes, never from the command line. The run_* functions hold the
// logic and return a sysexits code (admin/exit_codes.h); add_user_commands() only registers
// them with CLI11 and turns a non-zero code into CLI::RuntimeError(code), which
// CLI::App::exit() returns as the process's exit code.
//
// Thread-safety: meant for the CLI's main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "admin/command_io.h"
#include "admin/passwd_file_editor.h"

namespace poplar::admin {

struct UserAddOptions {
  std::string file{kDefaultPasswdFile};
  std::string name;
  std::string scheme{auth::kDefaultScheme};
  uint32_t uid = 0;  // 0: leave the field empty
  uint32_t gid = 0;
  std::string home;
  std::string mail;  // written as userdb_mail=...; empty: the server's [mail] location applies
};

struct UserPasswdOptions {
  std::string file{kDefaultPasswdFile};
  std::string name;
  std::string scheme{auth::kDefaultScheme};
};

struct UserDelOptions {
  std::string file{kDefaultPasswdFile};
  std::string name;
};

struct UserListOptions {
  std::string file{kDefaultPasswdFile};
};

int run_user_add(const UserAddOptions& options, CommandIo& io);
int run_user_passwd(const UserPasswdOptions& options, CommandIo& io);
int run_user_del(const UserDelOptions& options, CommandIo& io);
int run_user_list(const UserListOptions& options, CommandIo& io);

// Registers `user` and its subcommands on `app` with default_command_io().
void add_user_commands(CLI::App& app);
// The same with the given I/O; its referenced objects must outlive `app`.
void add_user_commands(CLI::App& app, const CommandIo& io);

}  // namespace poplar::admin
