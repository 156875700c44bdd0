// `poplar serve`: the POP3 server's command line.
#pragma once

#include <CLI/CLI.hpp>

namespace poplar::server {

void add_serve_command(CLI::App& app);

}  // namespace poplar::server
