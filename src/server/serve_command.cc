#include "server/serve_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/log.h"
#include "config/config.h"
#include "net/server_runtime.h"
#include "server/demo.h"
#include "server/privileges.h"
#include "server/server.h"

namespace poplar::server {
namespace {

// sysexits(3): the codes cron and init systems understand.
constexpr int kExitConfig = 78;   // EX_CONFIG
constexpr int kExitOsError = 71;  // EX_OSERR
constexpr int kExitUsage = 64;    // EX_USAGE

struct ServeOptions {
  std::string config_path;
  bool demo = false;
  std::string demo_dir = "demo-data";
  uint16_t demo_port = 1110;
  std::string port_file;
  size_t io_threads = 0;
  bool verbose = false;
};

int fail(int code, const std::string& message) {
  std::cerr << "poplar serve: " << message << "\n";
  return code;
}

Status write_port_file(const std::string& path, const std::vector<uint16_t>& ports) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (uint16_t port : ports) {
      out << port << "\n";
    }
    if (!out.flush()) {
      return Status::temporary("cannot write " + tmp);
    }
  }
  // Renamed into place so that a test polling for the file never reads half of it.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::from_errno(errno, "rename " + tmp);
  }
  return Status::ok();
}

int serve(const ServeOptions& options) {
  if (options.verbose) {
    log::set_min_level(log::Level::kDebug);
  }
  std::string config_path = options.config_path;
  std::string how_to_connect;
  if (options.demo) {
    auto demo = prepare_demo(options.demo_dir, options.demo_port);
    if (!demo) {
      return fail(kExitOsError, "cannot prepare the demo: " + demo.status().message());
    }
    config_path = demo->config_path;
    how_to_connect = demo->how_to_connect;
  }
  if (config_path.empty()) {
    return fail(kExitUsage, "give a configuration file with -c FILE, or --demo");
  }
  auto config = config::load_config(config_path);
  if (!config) {
    return fail(kExitConfig, config.status().message());
  }
  if (Status s = config::check_supported(*config); !s) {
    return fail(kExitConfig, s.message());
  }

  Server server(*config);
  net::RuntimeOptions runtime_options;
  runtime_options.io_threads = options.io_threads;
  runtime_options.max_connections = config->limits.max_connections;
  runtime_options.max_connections_per_ip = config->limits.max_connections_per_ip;
  net::ServerRuntime runtime(server, runtime_options);

  std::vector<std::string> addresses;
  for (const auto& listen : config->listen) {
    addresses.push_back(listen.address);
  }
  if (Status s = runtime.bind(addresses); !s) {
    return fail(kExitOsError, s.message());
  }
  // Ports are bound (as root if need be); from here on we run as the mail user.
  if (Status s = drop_privileges(config->user, config->group); !s) {
    return fail(kExitConfig, s.message());
  }
  auto ports = runtime.bound_ports();
  if (!options.port_file.empty()) {
    if (Status s = write_port_file(options.port_file, ports); !s) {
      return fail(kExitOsError, s.message());
    }
  }
  for (size_t i = 0; i < addresses.size(); ++i) {
    log::info("listening").kv("address", addresses[i]).kv("port", static_cast<unsigned>(ports[i]));
  }
  if (!how_to_connect.empty()) {
    std::cout << how_to_connect << std::flush;
  }
  runtime.run();
  log::info("stopped");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the POP3 server");
  cmd->add_option("-c,--config", options->config_path, "Configuration file (TOML)");
  cmd->add_flag("--demo", options->demo,
                "Serve a demo mailbox (user demo, password demo) without a config file");
  cmd->add_option("--demo-dir", options->demo_dir, "Where --demo keeps its data")
      ->capture_default_str();
  cmd->add_option("--demo-port", options->demo_port, "Port of the --demo listener")
      ->capture_default_str();
  cmd->add_option("--port-file", options->port_file,
                  "Write the bound port of each listener to this file (one per line)");
  cmd->add_option("--io-threads", options->io_threads, "Event loops (default: one per core)");
  cmd->add_flag("-v,--verbose", options->verbose, "Log debug events too");
  cmd->callback([options] {
    int code = serve(*options);
    if (code != 0) {
      throw CLI::RuntimeError(code);
    }
  });
}

}  // namespace poplar::server
