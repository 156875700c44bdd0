#include "server/serve_command.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "base/log.h"
#include "base/sysexits.h"
#include "config/config.h"
#include "net/server_runtime.h"
#include "server/demo.h"
#include "server/privileges.h"
#include "server/process_limits.h"
#include "server/server.h"
#include "tls/tls_context.h"

namespace poplar::server {
namespace {

// sysexits(3): the codes cron and init systems understand.
constexpr int kExitConfig = sysexits::kConfig;
constexpr int kExitOsError = sysexits::kOsErr;
constexpr int kExitUsage = sysexits::kUsage;

struct ServeOptions {
  std::string config_path;
  bool demo = false;
  std::string demo_dir = "demo-data";
  uint16_t demo_port = 1110;
  uint16_t demo_tls_port = 1995;
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
    auto demo = prepare_demo(options.demo_dir, options.demo_port, options.demo_tls_port);
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

  // DESIGN §3: the key is read now, while still root if started as root, so it may be
  // readable by root only. A reload on SIGHUP reads it again as the mail user.
  std::unique_ptr<tls::ServerContext> tls_context;
  if (config->tls) {
    auto loaded = tls::ServerContext::load(config->tls->certificate, config->tls->private_key);
    if (!loaded) {
      return fail(kExitConfig, loaded.status().message());
    }
    tls_context = std::move(*loaded);
    log::info("tls-loaded")
        .kv("certificate", tls_context->certificate_path())
        .kv("sha256", tls_context->fingerprint());
  }

  Server server(*config);
  net::RuntimeOptions runtime_options;
  runtime_options.io_threads = options.io_threads;
  runtime_options.max_connections = config->limits.max_connections;
  runtime_options.max_connections_per_ip = config->limits.max_connections_per_ip;
  runtime_options.tls = tls_context.get();
  runtime_options.on_reload = [context = tls_context.get()] {
    if (context == nullptr) {
      log::info("sighup").kv("action", "nothing to reload");
      return;
    }
    // A bad new certificate or key keeps the old one: a typo must not take the server down.
    if (Status s = context->reload(); !s) {
      log::error("tls-reload-failed").kv("error", s.message());
    } else {
      log::info("tls-reloaded").kv("sha256", context->fingerprint());
    }
  };
  // Before the privilege drop: only root may raise the hard descriptor limit.
  tune_malloc();
  const uint64_t fd_limit = raise_open_file_limit(config->limits.max_connections);
  if (fd_limit < config->limits.max_connections * kDescriptorsPerSession + kDescriptorsReserve) {
    log::warning("fd-limit-low")
        .kv("limit", fd_limit)
        .kv("max_connections", static_cast<uint64_t>(config->limits.max_connections))
        .kv("hint", "logins beyond about limit/2 sessions fail with [SYS/TEMP]");
  }
  net::ServerRuntime runtime(server, runtime_options);

  std::vector<std::string> addresses;
  std::vector<net::ListenerSpec> listeners;
  for (const auto& listen : config->listen) {
    addresses.push_back(listen.address);
    listeners.push_back(
        {listen.address, listen.tls == config::TlsMode::kImplicit   ? net::TlsMode::kImplicit
                         : listen.tls == config::TlsMode::kStartTls ? net::TlsMode::kStartTls
                                                                    : net::TlsMode::kNone});
  }
  if (Status s = runtime.bind(listeners); !s) {
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
    log::info("listening")
        .kv("address", addresses[i])
        .kv("port", static_cast<unsigned>(ports[i]))
        .kv("tls", config::tls_mode_name(config->listen[i].tls));
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
  cmd->add_option("--demo-port", options->demo_port,
                  "Port of the --demo POP3 listener (offers STLS)")
      ->capture_default_str();
  cmd->add_option("--demo-tls-port", options->demo_tls_port,
                  "Port of the --demo implicit-TLS (POP3S) listener")
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
