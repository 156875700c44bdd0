// Connection: drives one pop3::ServerSession over one TCP socket. It is the only place where
// the protocol core meets real I/O: a reader coroutine feeds input into the session while a
// processor coroutine writes the session's output and performs its actions (authentication and
// maildrop opening on the WorkPool), and a watchdog closes connections that go quiet.
//
// The reader keeps reading while long replies drain, so a pipelining client that writes many
// commands before reading is never deadlocked against us (RFC 2449 §6.6); the session itself
// answers strictly in order and caps how much unprocessed input it will hold.
//
// TLS (RFC 8314 implicit TLS, RFC 2595 STLS): the socket is driven through a
// tls::TlsConnection once TLS is up; OpenSSL reads and writes the descriptor itself and this
// class waits for readiness. While a handshake is pending the reader is parked, and input read
// in plaintext before STLS is dropped, never executed (RFC 2595 §4). Must never: call into
// OpenSSL after the socket is closed, or log channel bindings.
//
// Thread-safety: every coroutine of a connection runs on the one thread of its io_context, so
// no locks are needed here. Work on the pool only touches copies and the SessionHost.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/clock.h"
#include "base/random.h"
#include "net/asio_config.h"
#include "net/session_host.h"
#include "net/work_pool.h"
#include "pop3/server_session.h"
#include "tls/tls_connection.h"
#include "tls/tls_context.h"

namespace poplar::net {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // on_closed runs once, on this connection's thread, when the connection is gone. tls is the
  // server's TLS context (must outlive the connection); required when info.tls_mode is not
  // kNone.
  Connection(asio::ip::tcp::socket socket, ConnectionInfo info, SessionHost& host, WorkPool& pool,
             const tls::ServerContext* tls, std::function<void()> on_closed);
  ~Connection();

  // Starts the coroutines; the connection keeps itself alive until it closes.
  void start();
  // Ends the session without UPDATE (server shutdown). Safe to call from the connection's
  // own executor only; post() to it from elsewhere.
  void shut_down();

  // Replaces the callback given at construction (used when it needs the connection's address).
  void set_on_closed(std::function<void()> on_closed) { on_closed_ = std::move(on_closed); }

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> process_loop();
  asio::awaitable<void> watchdog();
  asio::awaitable<void> wait_for_input();
  asio::awaitable<void> authenticate();
  asio::awaitable<void> open_maildrop();
  asio::awaitable<void> commit_update();
  // Reads or writes through TLS once it is active, otherwise on the plain socket.
  asio::awaitable<std::tuple<asio::error_code, size_t>> read_some(char* buffer, size_t size);
  asio::awaitable<asio::error_code> write_all(std::string_view data);
  // Waits until the socket is readable or writable; false once the connection is closed.
  asio::awaitable<bool> wait_socket(asio::socket_base::wait_type type);
  // Runs the server handshake; on success marks the connection secure and tells the session.
  asio::awaitable<bool> start_tls();
  // kStartTls: park the reader, drop plaintext input, send the +OK, handshake, resume.
  asio::awaitable<void> upgrade_to_tls();
  void wake();
  void close_socket();

  asio::ip::tcp::socket socket_;
  ConnectionInfo info_;
  SessionHost& host_;
  WorkPool& pool_;
  const tls::ServerContext* tls_context_;
  std::function<void()> on_closed_;
  pop3::ServerSession session_;
  // Set once the handshake has started; all I/O goes through it from then on.
  std::unique_ptr<tls::TlsConnection> tls_;
  // The reader is parked while a handshake is pending (implicit TLS before it, STLS during it);
  // read_epoch_ changes at STLS so that a plaintext read that completes late is discarded.
  bool tls_pending_ = false;
  uint64_t read_epoch_ = 0;
  asio::steady_timer reader_resume_timer_;
  // Input read from the socket but not yet handed to the session. Only the processor calls
  // into the session, so the session is never touched while a WorkPool job uses its Maildrop.
  std::string inbox_;
  asio::steady_timer wake_timer_;           // the processor sleeps on it while waiting for input
  asio::steady_timer inbox_drained_timer_;  // the reader sleeps on it while the inbox is full
  asio::steady_timer watchdog_timer_;
  // Before login the whole AUTHORIZATION phase is capped ([limits] login_timeout_s), so a
  // client cannot hold a slot by sending CAPA forever; after login the idle time counts.
  std::chrono::steady_clock::time_point connected_at_;
  std::chrono::steady_clock::time_point last_activity_;
  bool closed_ = false;
  bool eof_ = false;  // the peer closed (or reading failed)
  bool eof_delivered_ = false;
  bool timed_out_ = false;
  bool shutdown_requested_ = false;
  bool session_aborted_ = false;
  bool read_may_have_more_ = false;  // the last plain read filled the buffer
  bool in_pool_ = false;             // an action runs on the WorkPool; the watchdog waits for it
};

}  // namespace poplar::net
