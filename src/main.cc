// poplar: one binary, subcommands (CLI11). The only file not in a library: it parses the
// command line and hands over to the command modules. Exit codes follow sysexits(3).
#include <CLI/CLI.hpp>

#include "admin/hash_command.h"
#include "admin/user_command.h"
#include "server/serve_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Poplar: a POP3 mail server and the tools around it"};
  app.set_version_flag("--version", std::string("poplar ") + POPLAR_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes (sysexits): 0 ok, 64 usage, 65 data, 66 no input, 71 OS error, 74 I/O error,\n"
      "75 temporary failure, 78 configuration error.");
  poplar::server::add_serve_command(app);
  poplar::admin::add_user_commands(app);
  poplar::admin::add_hash_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
