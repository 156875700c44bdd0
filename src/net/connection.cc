#include "net/connection.h"

#include <atomic>

#include "base/log.h"

namespace poplar::net {
namespace {

// Failed handshakes are logged at most this often (with a count of the suppressed ones): a scan
// of port 995 must not flood the log.
constexpr int64_t kHandshakeLogIntervalMs = 1000;

std::atomic<int64_t> last_handshake_log_ms{0};
std::atomic<uint64_t> suppressed_handshake_logs{0};

bool should_log_handshake_failure(uint64_t& suppressed) {
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count();
  int64_t last = last_handshake_log_ms.load(std::memory_order_relaxed);
  if (now - last < kHandshakeLogIntervalMs ||
      !last_handshake_log_ms.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    suppressed_handshake_logs.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  suppressed = suppressed_handshake_logs.exchange(0, std::memory_order_relaxed);
  return true;
}

// Read size per system call: a long pipelined batch in one read. The buffer belongs to the
// loop thread, not the connection: the reader waits for readability without a buffer and reads
// (non-blocking) only when data is there, so an idle connection holds no read buffer at all
// (DESIGN §7: a few KiB per idle connection). Data is copied into the connection's inbox before
// the reader suspends again, so connections of one thread never see each other's bytes.
constexpr size_t kReadChunkOctets = 16 * 1024;
thread_local char t_read_buffer[kReadChunkOctets];
// Unprocessed input held while the session is busy (e.g. streaming a RETR). A client that
// pipelines more than this without reading our replies is not a POP3 client; we stop reading
// until the session catches up (mpop pipelines at most 100 commands, about 1.5 KiB).
constexpr size_t kMaxInboxOctets = 64 * 1024;

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, ConnectionInfo info, SessionHost& host,
                       WorkPool& pool, const tls::ServerContext* tls,
                       std::function<void()> on_closed)
    : socket_(std::move(socket)),
      info_(std::move(info)),
      host_(host),
      pool_(pool),
      tls_context_(tls),
      on_closed_(std::move(on_closed)),
      session_(host.session_config(info_), SystemClock::instance(), SystemRandom::instance(),
               info_.remote_ip),
      reader_resume_timer_(socket_.get_executor()),
      wake_timer_(socket_.get_executor()),
      inbox_drained_timer_(socket_.get_executor()),
      watchdog_timer_(socket_.get_executor()),
      connected_at_(std::chrono::steady_clock::now()),
      last_activity_(connected_at_) {
  // RFC 8314 §3.3: on an implicit-TLS port nothing is read as POP3 before the handshake.
  tls_pending_ = info_.tls_mode == TlsMode::kImplicit;
}

Connection::~Connection() {
  if (on_closed_) {
    on_closed_();
  }
}

void Connection::start() {
  auto self = shared_from_this();
  // The reader reads only after readiness and must never block the loop (read_some).
  asio::error_code ignored;
  socket_.non_blocking(true, ignored);
  auto log_exception = [self](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("connection-error").kv("rip", self->info_.remote_ip).kv("error", ex.what());
      }
      self->close_socket();
    }
  };
  asio::co_spawn(socket_.get_executor(), read_loop(), log_exception);
  asio::co_spawn(socket_.get_executor(), process_loop(), log_exception);
  asio::co_spawn(socket_.get_executor(), watchdog(), log_exception);
}

void Connection::shut_down() {
  if (!closed_) {
    shutdown_requested_ = true;
    close_socket();
  }
}

void Connection::wake() { wake_timer_.cancel(); }

void Connection::close_socket() {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (tls_) {
    // RFC 8446 §6.1: end with close_notify so the peer can tell the end from a truncation.
    // One non-blocking attempt: the alert is tiny and a peer that reads nothing gets none.
    tls_->close_notify();
  }
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  wake_timer_.cancel();
  inbox_drained_timer_.cancel();
  reader_resume_timer_.cancel();
  watchdog_timer_.cancel();
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  while (!closed_) {
    if (tls_pending_) {
      // A handshake owns the socket; resume reading through TLS when it is done.
      reader_resume_timer_.expires_at(asio::steady_timer::time_point::max());
      co_await reader_resume_timer_.async_wait(kUseTuple);
      continue;
    }
    if (inbox_.size() >= kMaxInboxOctets) {
      // Wait until the processor has handed the backlog to the session.
      inbox_drained_timer_.expires_at(asio::steady_timer::time_point::max());
      co_await inbox_drained_timer_.async_wait(kUseTuple);
      continue;
    }
    const uint64_t epoch = read_epoch_;
    auto [ec, n] = co_await read_some(t_read_buffer, sizeof t_read_buffer);
    if (epoch != read_epoch_ || tls_pending_) {
      // Read in plaintext before STLS took over: dropped unseen (RFC 2595 §4).
      continue;
    }
    if (ec) {
      eof_ = true;
      wake();
      co_return;
    }
    last_activity_ = std::chrono::steady_clock::now();
    inbox_.append(t_read_buffer, n);  // before any suspension: the buffer is the thread's
    wake();
  }
}

asio::awaitable<void> Connection::wait_for_input() {
  wake_timer_.expires_at(asio::steady_timer::time_point::max());
  co_await wake_timer_.async_wait(kUseTuple);
}

asio::awaitable<void> Connection::process_loop() {
  auto self = shared_from_this();
  if (info_.tls_mode == TlsMode::kImplicit) {
    // RFC 8314 §3.3: handshake first, greet after. The watchdog's pre-login deadline covers
    // a client that stalls mid-handshake.
    const bool secured = co_await start_tls();
    if (!secured) {
      close_socket();
      co_return;
    }
    tls_pending_ = false;
    reader_resume_timer_.cancel();
  }
  session_.start();
  for (;;) {
    if (closed_ && !session_aborted_) {
      session_aborted_ = true;
      session_.abort(timed_out_            ? pop3::CloseReason::kTimeout
                     : shutdown_requested_ ? pop3::CloseReason::kShutdown
                                           : pop3::CloseReason::kIoError);
    }
    switch (session_.next_action()) {
      case pop3::ActionKind::kWrite: {
        std::string_view out = session_.pending_output();
        asio::error_code ec = co_await write_all(out);
        if (ec) {
          close_socket();
          break;
        }
        last_activity_ = std::chrono::steady_clock::now();
        session_.consume_output(out.size());
        break;
      }
      case pop3::ActionKind::kRead:
        if (!inbox_.empty()) {
          std::string input;
          input.swap(inbox_);
          inbox_drained_timer_.cancel();
          session_.receive(input);
        } else if (eof_) {
          if (!eof_delivered_) {
            eof_delivered_ = true;
            session_.on_eof();
          } else {
            // The session still wants input that can never come.
            session_.abort(pop3::CloseReason::kPeerClosed);
          }
        } else if (closed_) {
          session_.abort(pop3::CloseReason::kIoError);
        } else {
          co_await wait_for_input();
        }
        break;
      case pop3::ActionKind::kAuthenticate:
        co_await authenticate();
        break;
      case pop3::ActionKind::kOpenMaildrop:
        co_await open_maildrop();
        break;
      case pop3::ActionKind::kCommitUpdate:
        co_await commit_update();
        break;
      case pop3::ActionKind::kStartTls:
        co_await upgrade_to_tls();
        break;
      case pop3::ActionKind::kClose:
        close_socket();
        co_return;
    }
  }
}

asio::awaitable<bool> Connection::wait_socket(asio::socket_base::wait_type type) {
  if (closed_) {
    co_return false;
  }
  auto [ec] = co_await socket_.async_wait(type, kUseTuple);
  co_return !ec && !closed_;
}

asio::awaitable<std::tuple<asio::error_code, size_t>> Connection::read_some(char* buffer,
                                                                            size_t size) {
  if (!tls_) {
    // Readiness first, then a non-blocking read: no buffer is tied up while the client thinks.
    // A read that filled the buffer is followed at once by another (more may be waiting).
    for (;;) {
      if (!read_may_have_more_) {
        // (co_await results go into named variables: GCC 12 miscompiles some coroutines that
        // co_await inside a condition.)
        const bool readable = co_await wait_socket(asio::socket_base::wait_read);
        if (!readable) {
          co_return std::tuple(asio::error::make_error_code(asio::error::operation_aborted), 0);
        }
      }
      asio::error_code ec;
      size_t n = socket_.read_some(asio::buffer(buffer, size), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        read_may_have_more_ = false;
        continue;
      }
      read_may_have_more_ = !ec && n == size;
      co_return std::tuple(ec, n);
    }
  }
  for (;;) {
    // Never touch OpenSSL once the socket is closed: its descriptor may be reused already.
    if (closed_) {
      co_return std::tuple(asio::error::make_error_code(asio::error::operation_aborted), 0);
    }
    tls::IoResult r = tls_->read(buffer, size);
    switch (r.state) {
      case tls::IoState::kDone:
        co_return std::tuple(asio::error_code(), r.bytes);
      case tls::IoState::kWantRead:
        co_await wait_socket(asio::socket_base::wait_read);
        break;
      case tls::IoState::kWantWrite:
        co_await wait_socket(asio::socket_base::wait_write);
        break;
      case tls::IoState::kClosed:
        co_return std::tuple(asio::error::make_error_code(asio::error::eof), 0);
      case tls::IoState::kError:
        log::info("tls-error").kv("rip", info_.remote_ip).kv("error", tls_->error_text());
        co_return std::tuple(asio::error::make_error_code(asio::error::connection_aborted), 0);
    }
  }
}

asio::awaitable<asio::error_code> Connection::write_all(std::string_view data) {
  if (!tls_) {
    auto [ec, n] =
        co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), kUseTuple);
    co_return ec;
  }
  while (!data.empty()) {
    if (closed_) {
      co_return asio::error::make_error_code(asio::error::operation_aborted);
    }
    tls::IoResult r = tls_->write(data);
    switch (r.state) {
      case tls::IoState::kDone:
        data.remove_prefix(r.bytes);
        break;
      case tls::IoState::kWantRead:
        co_await wait_socket(asio::socket_base::wait_read);
        break;
      case tls::IoState::kWantWrite:
        co_await wait_socket(asio::socket_base::wait_write);
        break;
      case tls::IoState::kClosed:
      case tls::IoState::kError:
        co_return asio::error::make_error_code(asio::error::connection_aborted);
    }
  }
  co_return asio::error_code();
}

asio::awaitable<bool> Connection::start_tls() {
  auto self = shared_from_this();
  std::string error;
  if (tls_context_ == nullptr) {
    error = "no TLS context";
  } else {
    asio::error_code ec;
    // OpenSSL reads and writes the descriptor itself; it must never block a loop thread.
    socket_.non_blocking(true, ec);
    auto made = tls_context_->new_connection(socket_.native_handle());
    if (ec) {
      error = ec.message();
    } else if (!made) {
      error = made.status().message();
    } else {
      tls_ = std::move(*made);
    }
  }
  while (tls_ && error.empty()) {
    if (closed_) {
      error = timed_out_ ? "timeout" : "closed";
      break;
    }
    tls::IoResult r = tls_->handshake();
    if (r.state == tls::IoState::kDone) {
      break;
    }
    if (r.state == tls::IoState::kWantRead || r.state == tls::IoState::kWantWrite) {
      co_await wait_socket(r.state == tls::IoState::kWantRead ? asio::socket_base::wait_read
                                                              : asio::socket_base::wait_write);
      continue;
    }
    error = r.state == tls::IoState::kClosed ? "peer closed" : tls_->error_text();
  }
  if (!error.empty()) {
    uint64_t suppressed = 0;
    if (should_log_handshake_failure(suppressed)) {
      log::warning("tls-handshake-failed")
          .kv("rip", info_.remote_ip)
          .kv("lip", info_.local_address)
          .kv("error", error)
          .kv("suppressed", suppressed);
    }
    co_return false;
  }
  tls::HandshakeInfo handshake = tls_->info();
  info_.secure = true;
  last_activity_ = std::chrono::steady_clock::now();
  log::info("tls")
      .kv("rip", info_.remote_ip)
      .kv("version", handshake.version)
      .kv("cipher", handshake.cipher)
      .kv("resumed", handshake.resumed);
  session_.on_tls_started(pop3::TlsInfo{
      .version = std::move(handshake.version),
      .cipher = std::move(handshake.cipher),
      .tls_exporter = std::move(handshake.tls_exporter),
      .tls_server_end_point = std::move(handshake.tls_server_end_point),
  });
  co_return true;
}

asio::awaitable<void> Connection::upgrade_to_tls() {
  auto self = shared_from_this();
  // RFC 2595 §4: "the client MUST NOT send any commands" after STLS before the handshake, and
  // whatever it sent anyway must not be executed inside TLS. Park the reader first (its pending
  // plaintext read is cancelled and its result discarded by epoch), then drop what it read.
  tls_pending_ = true;
  ++read_epoch_;
  asio::error_code ignored;
  socket_.cancel(ignored);
  inbox_.clear();
  inbox_drained_timer_.cancel();
  // The "+OK" in plaintext; the handshake starts right after its CRLF.
  std::string_view ok = session_.pending_output();
  asio::error_code ec = co_await write_all(ok);
  if (ec || closed_) {
    close_socket();  // the processor's loop then ends the session (kIoError or kTimeout)
    co_return;
  }
  session_.consume_output(ok.size());
  const bool secured = co_await start_tls();
  if (!secured) {
    close_socket();
    co_return;
  }
  tls_pending_ = false;
  reader_resume_timer_.cancel();
}

asio::awaitable<void> Connection::authenticate() {
  auto self = shared_from_this();
  auto request = std::make_shared<auth::AuthRequest>(session_.auth_request());
  SessionHost* host = &host_;
  auth::AuthResult result;
  if (host_.authenticates_cheaply(*request)) {
    result = host_.authenticate(*request);
  } else {
    in_pool_ = true;
    auto job = [host, request] { return host->authenticate(*request); };
    result = co_await pool_.run(std::move(job));
    in_pool_ = false;
  }
  if (result.status.code() == ErrorCode::kAuthFailed) {
    auto delay = host_.on_auth_failure(request->remote_ip, request->user);
    if (delay.count() > 0 && !closed_) {
      asio::steady_timer timer(socket_.get_executor(), delay);
      co_await timer.async_wait(kUseTuple);
    }
  } else if (result.status.is_ok()) {
    host_.on_auth_success(request->remote_ip, request->user);
  }
  request->password.wipe();
  session_.on_auth_result(std::move(result));
}

asio::awaitable<void> Connection::open_maildrop() {
  auto self = shared_from_this();
  auto user = std::make_shared<auth::UserRecord>(session_.authenticated_user());
  if (host_.opens_cheaply(*user)) {
    // Small and indexed: cheaper here than two thread hand-offs.
    session_.on_maildrop_opened(host_.open_maildrop(*user));
    co_return;
  }
  SessionHost* host = &host_;
  in_pool_ = true;
  // The Maildrop is created on the pool and handed over; shared_ptr keeps it owned if this
  // coroutine is torn down before it resumes.
  auto job = [host, user] {
    return std::make_shared<Result<store::MaildropPtr>>(host->open_maildrop(*user));
  };
  auto maildrop = co_await pool_.run(std::move(job));
  in_pool_ = false;
  session_.on_maildrop_opened(std::move(*maildrop));
}

asio::awaitable<void> Connection::commit_update() {
  auto self = shared_from_this();
  store::Maildrop* maildrop = &session_.maildrop();
  auto deletions = std::make_shared<std::vector<size_t>>(session_.deletions().begin(),
                                                         session_.deletions().end());
  in_pool_ = true;
  // `self` keeps the session (and so the Maildrop) alive until the commit has finished, even if
  // the peer is gone: a QUIT that was received is carried out (RFC 1939 §6).
  auto job = [self, maildrop, deletions] { return maildrop->commit_update(*deletions); };
  Status status = co_await pool_.run(std::move(job));
  in_pool_ = false;
  session_.on_update_committed(std::move(status));
}

asio::awaitable<void> Connection::watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    const bool logged_in = session_.logged_in();
    auto limit = logged_in ? host_.idle_timeout() : host_.login_timeout();
    auto deadline = (logged_in ? last_activity_ : connected_at_) + limit;
    if (std::chrono::steady_clock::now() >= deadline && !in_pool_) {
      log::info("timeout")
          .kv("user", logged_in ? session_.authenticated_user().name : "")
          .kv("rip", info_.remote_ip)
          .kv("idle_s", static_cast<int64_t>(limit.count()));
      timed_out_ = true;
      // RFC 1939 §3: close without a response; the session ends without UPDATE.
      close_socket();
      co_return;
    }
    watchdog_timer_.expires_at(
        std::max(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1)));
    co_await watchdog_timer_.async_wait(kUseTuple);
  }
}

}  // namespace poplar::net
