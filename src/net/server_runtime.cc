#include "net/server_runtime.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <functional>
#include <unordered_set>

#include "base/log.h"
#include "base/strict_number.h"
#include "net/connection.h"

namespace poplar::net {

struct ServerRuntime::Loop {
  asio::io_context context{1};
  // Connections living on this loop; touched only from its thread.
  std::unordered_set<Connection*> connections;
  std::thread thread;
};

namespace {

// How long a graceful stop waits for sessions to end (a running UPDATE must finish).
constexpr auto kShutdownGrace = std::chrono::seconds(10);

Result<asio::ip::tcp::endpoint> parse_endpoint(const std::string& address) {
  std::string host;
  std::string port;
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return Status::invalid_input("bad listen address \"" + address + "\"");
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) {
      return Status::invalid_input("listen address \"" + address + "\" needs host:port");
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  auto port_number = parse_u32(port);
  if (!port_number || *port_number > 65535) {
    return Status::invalid_input("bad port in listen address \"" + address + "\"");
  }
  asio::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) {
    return Status::invalid_input("bad IP address in listen address \"" + address + "\"");
  }
  return asio::ip::tcp::endpoint(ip, static_cast<uint16_t>(*port_number));
}

bool is_loopback(const asio::ip::address& address) {
  if (address.is_loopback()) {
    return true;
  }
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return false;
}

std::string ip_string(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

}  // namespace

ServerRuntime::ServerRuntime(SessionHost& host, RuntimeOptions options)
    : host_(host),
      options_(options),
      limiter_(options.max_connections, options.max_connections_per_ip) {
  size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  size_t io_threads = options_.io_threads ? options_.io_threads : cores;
  size_t work_threads = options_.work_threads ? options_.work_threads : std::max<size_t>(2, cores);
  for (size_t i = 0; i < io_threads; ++i) {
    loops_.push_back(std::make_unique<Loop>());
  }
  pool_ = std::make_unique<WorkPool>(work_threads);
}

ServerRuntime::~ServerRuntime() {
  stop();
  for (auto& loop : loops_) {
    if (loop->thread.joinable()) {
      loop->thread.join();
    }
  }
  // Connections still registered hold references to pool_; destroy them with their loops.
  acceptors_.clear();
  loops_.clear();
  pool_.reset();
}

Status ServerRuntime::bind(const std::vector<ListenerSpec>& listeners) {
  for (const auto& listener : listeners) {
    const std::string& address = listener.address;
    if (listener.tls != TlsMode::kNone && options_.tls == nullptr) {
      return Status::error(ErrorCode::kUnavailable,
                           "listen on " + address + ": TLS listener without a TLS context");
    }
    auto endpoint = parse_endpoint(address);
    if (!endpoint) {
      return endpoint.status();
    }
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(loops_[0]->context);
    asio::error_code ec;
    acceptor->open(endpoint->protocol(), ec);
    if (!ec) {
      acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec && endpoint->address().is_v6()) {
      // "[::]:110" serves IPv6 only; list "0.0.0.0:110" too for IPv4, as Dovecot does.
      acceptor->set_option(asio::ip::v6_only(true), ec);
    }
    if (!ec) {
      acceptor->bind(*endpoint, ec);
    }
    if (!ec) {
      acceptor->listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return Status::from_errno(ec.value(), "listen on " + address);
    }
    ports_.push_back(acceptor->local_endpoint(ec).port());
    // The other loops watch the same listening socket through their own descriptor.
    for (size_t i = 1; i < loops_.size(); ++i) {
      int fd = ::dup(acceptor->native_handle());
      if (fd < 0) {
        return Status::from_errno(errno, "listen on " + address + ": dup");
      }
      auto copy = std::make_unique<asio::ip::tcp::acceptor>(loops_[i]->context);
      copy->assign(endpoint->protocol(), fd, ec);
      if (ec) {
        ::close(fd);
        return Status::from_errno(ec.value(), "listen on " + address);
      }
      acceptors_.push_back({std::move(copy), i, listener.tls});
    }
    acceptors_.push_back({std::move(acceptor), 0, listener.tls});
  }
  return Status::ok();
}

std::vector<uint16_t> ServerRuntime::bound_ports() const { return ports_; }

asio::awaitable<void> ServerRuntime::accept_loop(asio::ip::tcp::acceptor& acceptor, Loop& loop,
                                                 TlsMode tls) {
  asio::error_code ignored;
  std::string local = acceptor.local_endpoint(ignored).address().to_string() + ":" +
                      std::to_string(acceptor.local_endpoint(ignored).port());
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor.async_accept(loop.context, kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) {
        co_return;
      }
      // EMFILE/ENFILE: back off instead of spinning on a listener we cannot serve.
      log::warning("accept-failed").kv("error", ec.message());
      asio::steady_timer timer(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await timer.async_wait(kUseTuple);
      continue;
    }
    start_connection(loop, std::move(socket), local, tls);
  }
}

void ServerRuntime::start_connection(Loop& loop, asio::ip::tcp::socket socket, std::string local,
                                     TlsMode tls) {
  asio::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) {
    return;  // the peer is already gone
  }
  ConnectionInfo info;
  info.remote_ip = ip_string(remote.address());
  info.remote_port = remote.port();
  info.local_address = std::move(local);
  info.loopback = is_loopback(remote.address());
  info.tls_mode = tls;
  // Replies are written whole; a reply written in more than one piece (a RETR's +OK, then its
  // body) must not wait for the client's delayed ACK (Nagle).
  socket.set_option(asio::ip::tcp::no_delay(true), ec);

  auto verdict = limiter_.try_acquire(info.remote_ip);
  if (verdict != ConnectionLimiter::Verdict::kAccepted) {
    uint64_t suppressed = 0;
    if (limiter_.should_log_refusal(std::chrono::steady_clock::now(), suppressed)) {
      log::warning("connection-refused")
          .kv("rip", info.remote_ip)
          .kv("reason", verdict == ConnectionLimiter::Verdict::kTooManyTotal
                            ? "max-connections"
                            : "max-connections-per-ip")
          .kv("suppressed", suppressed);
    }
    // A short best-effort answer so that the client can tell this from a network failure.
    // Not on an implicit-TLS port: plaintext there would only be a handshake error.
    auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
    if (tls == TlsMode::kImplicit) {
      asio::error_code ignore;
      s->close(ignore);
      return;
    }
    static constexpr char kRefusal[] = "-ERR [SYS/TEMP] Too many connections, try again later.\r\n";
    asio::async_write(*s, asio::buffer(kRefusal, sizeof kRefusal - 1),
                      [s](const asio::error_code&, size_t) {
                        asio::error_code ignore;
                        s->close(ignore);
                      });
    return;
  }
  log::info("connect").kv("rip", info.remote_ip).kv("lip", info.local_address);
  // Already on the loop's own thread (it accepted the socket): no hand-off.
  std::string ip = info.remote_ip;
  auto connection = std::make_shared<Connection>(std::move(socket), std::move(info), host_, *pool_,
                                                 options_.tls, nullptr);
  Connection* raw = connection.get();
  loop.connections.insert(raw);
  connection->set_on_closed([this, &loop, raw, ip] {
    loop.connections.erase(raw);
    limiter_.release(ip);
  });
  connection->start();
}

void ServerRuntime::run() {
  std::signal(SIGPIPE, SIG_IGN);
  // SIGHUP must not kill a server (its default action does): logrotate and admins send it to
  // reload the TLS certificate (the passwd-file reloads itself when it changes).
  asio::signal_set signals(loops_[0]->context, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const asio::error_code&, int)> on_signal =
      [this, &signals, &on_signal](const asio::error_code& ec, int signal) {
        if (ec) {
          return;
        }
        if (signal == SIGHUP) {
          if (options_.on_reload) {
            options_.on_reload();
          } else {
            log::info("sighup").kv("action", "nothing to reload");
          }
          signals.async_wait(on_signal);
          return;
        }
        log::info("shutdown").kv("signal", signal);
        stop();
      };
  signals.async_wait(on_signal);
  for (LoopAcceptor& a : acceptors_) {
    Loop& loop = *loops_[a.loop];
    asio::co_spawn(loop.context, accept_loop(*a.acceptor, loop, a.tls), [](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error("accept-loop-failed").kv("error", ex.what());
        }
      }
    });
  }
  // Keep every loop alive until stop(), even with no connection on it.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& loop : loops_) {
    guards.push_back(asio::make_work_guard(loop->context));
  }
  for (size_t i = 1; i < loops_.size(); ++i) {
    loops_[i]->thread = std::thread([&context = loops_[i]->context] { context.run(); });
  }
  // Loop 0 runs here; the watcher below releases the guards once stopping has been asked for
  // and the sessions have ended (or the grace period has passed).
  std::thread stopper([this, &guards] {
    while (!stopping_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
    while (limiter_.total() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& guard : guards) {
      guard.reset();
    }
    for (auto& loop : loops_) {
      loop->context.stop();
    }
  });
  loops_[0]->context.run();
  stopper.join();
  for (size_t i = 1; i < loops_.size(); ++i) {
    if (loops_[i]->thread.joinable()) {
      loops_[i]->thread.join();
    }
  }
  // A running UPDATE completes before the process exits.
  pool_->join();
}

void ServerRuntime::stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  for (LoopAcceptor& a : acceptors_) {
    asio::post(loops_[a.loop]->context, [&a] {
      asio::error_code ignored;
      a.acceptor->close(ignored);
    });
  }
  for (auto& loop : loops_) {
    asio::post(loop->context, [&loop] {
      // shut_down() may erase from the set through on_closed; iterate over a copy.
      std::vector<Connection*> connections(loop->connections.begin(), loop->connections.end());
      for (Connection* c : connections) {
        c->shut_down();
      }
    });
  }
}

}  // namespace poplar::net
