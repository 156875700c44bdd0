// ServerRuntime: the event loops of `poplar serve`. One io_context per I/O thread (one per
// core by default); every loop accepts on every listening socket (each holds a dup of the
// descriptor in its own epoll set), so a connection lives on the loop that accepted it and is
// never handed across threads — a cross-thread wake-up costs more than a short POP3 session's
// own work on a virtual machine. No SO_REUSEPORT: a second server started on the same port by
// mistake must fail with "address in use", not quietly take half the connections. Also a
// WorkPool for blocking work, connection caps, and graceful shutdown on SIGTERM/SIGINT
// (sessions end without UPDATE; a running UPDATE finishes first).
//
// Thread-safety: bind() and run() are called from the main thread; stop() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "net/asio_config.h"
#include "net/connection_limiter.h"
#include "net/session_host.h"
#include "net/work_pool.h"
#include "tls/tls_context.h"

namespace poplar::net {

struct RuntimeOptions {
  size_t io_threads = 0;    // 0: one per core
  size_t work_threads = 0;  // 0: one per core, at least 2
  uint32_t max_connections = 10000;
  uint32_t max_connections_per_ip = 50;
  // The server's TLS context; required when a listener has TLS. Must outlive the runtime.
  const tls::ServerContext* tls = nullptr;
  // Called on the first loop's thread for SIGHUP (reload the certificate, ...).
  std::function<void()> on_reload;
};

struct ListenerSpec {
  std::string address;  // "host:port", "[v6]:port"
  TlsMode tls = TlsMode::kNone;
};

class ServerRuntime {
 public:
  ServerRuntime(SessionHost& host, RuntimeOptions options);
  ~ServerRuntime();

  // Binds every address ("host:port", "[v6]:port"; port 0 picks a free port). Call before
  // dropping privileges. Errors: kInvalidInput (bad address), kTemporary/kPermission (bind).
  // Error codes: also kUnavailable (a TLS listener without RuntimeOptions::tls).
  Status bind(const std::vector<ListenerSpec>& listeners);
  // The ports actually bound, in the order of the addresses.
  std::vector<uint16_t> bound_ports() const;

  // Serves until stop() or SIGTERM/SIGINT.
  void run();
  void stop();

 private:
  struct Loop;
  // One listening socket as seen by one loop.
  struct LoopAcceptor {
    std::unique_ptr<asio::ip::tcp::acceptor> acceptor;  // on loops_[loop]->context
    size_t loop;
    TlsMode tls;
  };
  asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, Loop& loop, TlsMode tls);
  void start_connection(Loop& loop, asio::ip::tcp::socket socket, std::string local, TlsMode tls);

  SessionHost& host_;
  RuntimeOptions options_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<uint16_t> ports_;          // per listener, in configuration order
  std::vector<LoopAcceptor> acceptors_;  // every listener × every loop
  std::unique_ptr<WorkPool> pool_;
  ConnectionLimiter limiter_;
  std::atomic<bool> stopping_{false};
};

}  // namespace poplar::net
