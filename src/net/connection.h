// Connection: drives one pop3::ServerSession over one TCP socket. It is the only place where
// the protocol core meets real I/O. One coroutine does the session's work in order: it reads
// when the session wants input, writes its output, and performs its actions (authentication and
// maildrop opening, inline when cheap, otherwise on the WorkPool); a watchdog closes
// connections that go quiet. Before a password check it waits for the remote address's turn
// (SessionHost::admit_auth) on a timer, never blocking the loop.
//
// Why one coroutine and not a reader beside a writer: every hand-off between two coroutines is
// a posted completion, and on this event loop a posted completion costs an extra epoll_wait
// round. A login session was 47 system calls with the hand-offs; the request-response rhythm
// of POP3 needs none of them. The one case that does need concurrent reading is a write that
// blocks because the client is not reading: a pipelining client may be blocked writing its next
// commands to us at the same time (RFC 2449 §6.6). While such a write waits, a chain of
// readiness callbacks moves the client's input into the inbox (the "drain"), so neither side can
// block the other; the session itself answers strictly in order and caps how much unprocessed
// input it will hold.
//
// TLS (RFC 8314 implicit TLS, RFC 2595 STLS): the socket is driven through a
// tls::TlsConnection once TLS is up; OpenSSL reads and writes the descriptor itself and this
// class waits for readiness. Input read in plaintext before STLS is dropped, never executed
// (RFC 2595 §4). Must never: call into OpenSSL after the socket is closed, or log channel
// bindings.
//
// Thread-safety: every coroutine and callback of a connection runs on the one thread of its
// io_context, so no locks are needed here. Work on the pool only touches copies and the
// SessionHost.
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
  // What a non-blocking read attempt found.
  enum class ReadOutcome { kData, kWantRead, kWantWrite, kEnd };

  asio::awaitable<void> run();
  asio::awaitable<void> watchdog();
  asio::awaitable<void> authenticate();
  // Waits `delay` on auth_timer_ (the address's turn, a failure's delay); returns early when
  // the connection closes.
  asio::awaitable<void> wait_unless_closed(std::chrono::milliseconds delay);
  asio::awaitable<void> open_maildrop();
  asio::awaitable<void> commit_update();
  // Waits until input is there and moves it into inbox_ (or sets eof_, or returns on close).
  asio::awaitable<void> read_input();
  // One non-blocking read, through TLS once it is active, appended to inbox_.
  ReadOutcome read_now();
  asio::awaitable<asio::error_code> write_all(std::string_view data);
  // Waits until the socket is readable or writable; false once the connection is closed.
  asio::awaitable<bool> wait_socket(asio::socket_base::wait_type type);
  // The drain (see above): start while a write waits for the client, stop when it is done.
  void start_drain();
  void stop_drain() { draining_ = false; }
  void on_drain_readable(const asio::error_code& ec);
  // Runs the server handshake; on success marks the connection secure and tells the session.
  asio::awaitable<bool> start_tls();
  // kStartTls: drop plaintext input, send the +OK, handshake.
  asio::awaitable<void> upgrade_to_tls();
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
  // Input read from the socket but not yet handed to the session.
  std::string inbox_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer auth_timer_;  // see wait_unless_closed()
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
  bool draining_ = false;            // a write is waiting for the client; keep reading
  bool drain_wait_pending_ = false;  // a drain readiness wait is registered
  bool in_pool_ = false;             // an action runs on the WorkPool; the watchdog waits for it
};

}  // namespace poplar::net
