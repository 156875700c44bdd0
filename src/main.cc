// poplar: one binary, subcommands (CLI11). The only file not in a library: it parses the
// command line and hands over to the command modules. Exit codes follow sysexits(3).
#include <CLI/CLI.hpp>
#include <string_view>

#include "admin/hash_command.h"
#include "admin/user_command.h"
#include "bench/bench_command.h"
#include "fetch/fetch_command.h"
#include "server/serve_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Poplar: a POP3 mail server and the tools around it"};
  app.set_version_flag("--version", std::string("poplar ") + POPLAR_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes (sysexits): 0 ok, 64 usage, 65 data, 66 no input, 69 unavailable, 71 OS error,\n"
      "74 I/O error, 75 temporary failure, 76 protocol error, 77 permission denied, 78 "
      "configuration\n"
      "error; `poplar bench` exits 1 when its run had errors or verify failures.");
  poplar::server::add_serve_command(app);
  poplar::admin::add_user_commands(app);
  poplar::admin::add_hash_command(app);
  poplar::bench::add_bench_command(app);
  poplar::fetch::add_fetch_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    // `poplar bench` promises EX_USAGE for a bad command line (docs/bench.md), not CLI11's own
    // codes; a RuntimeError carries the command's exit code and is passed on as it is.
    if (code != 0 && argc > 1 && std::string_view(argv[1]) == "bench" &&
        dynamic_cast<const CLI::RuntimeError*>(&e) == nullptr) {
      return poplar::bench::kExitUsage;
    }
    return code;
  }
  return 0;
}
