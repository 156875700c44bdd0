// poplar: one binary, subcommands (CLI11). The only file not in a library.
#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"Poplar: a POP3 mail server and client"};
  app.set_version_flag("--version", std::string("poplar ") + POPLAR_VERSION);
  app.require_subcommand(1);
  app.add_subcommand("serve", "Run the POP3 server");
  CLI11_PARSE(app, argc, argv);
  return 0;
}
