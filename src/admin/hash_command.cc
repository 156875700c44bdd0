#include "admin/hash_command.h"

#include <memory>

#include "admin/exit_codes.h"
#include "auth/password_scheme.h"
#include "base/secret.h"

namespace poplar::admin {

int run_hash(const HashCommandOptions& options, CommandIo& io) {
  if (options.list) {
    for (std::string_view scheme : auth::supported_schemes()) {
      io.out << scheme << '\n';
    }
    return kExitOk;
  }
  if (!auth::is_supported_scheme(options.scheme)) {
    io.err << "poplar hash: unknown password scheme " << options.scheme
           << " (`poplar hash --list` shows the supported ones)\n";
    return kExitUsage;
  }
  Result<std::string> hash = read_and_hash_password(options.scheme, io);
  if (!hash) {
    return report_failure(io, "hash", hash.status());
  }
  io.out << *hash << '\n';
  secure_wipe(hash->data(), hash->size());
  return kExitOk;
}

void add_hash_command(CLI::App& app) { add_hash_command(app, default_command_io()); }

void add_hash_command(CLI::App& app, const CommandIo& io_in) {
  auto io = std::make_shared<CommandIo>(io_in);
  auto options = std::make_shared<HashCommandOptions>();
  CLI::App* hash = app.add_subcommand(
      "hash",
      "Print a password hash for a passwd-file, like `doveadm pw`; the password is asked on the "
      "terminal, or read from stdin's first line");
  hash->add_option("-s,--scheme", options->scheme, "Password scheme")->capture_default_str();
  hash->add_flag("-l,--list", options->list, "List the supported schemes");
  hash->callback([options, io] {
    int code = run_hash(*options, *io);
    if (code != kExitOk) {
      throw CLI::RuntimeError(code);
    }
  });
}

}  // namespace poplar::admin
