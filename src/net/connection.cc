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
// loop thread, not the connection: a connection waits for readability without a buffer and
// reads (non-blocking) only when data is there, so an idle connection holds no read buffer at
// all (DESIGN §7: a few KiB per idle connection). Data is copied into the connection's inbox
// right after each read, so connections of one thread never see each other's bytes.
constexpr size_t kReadChunkOctets = 16 * 1024;
thread_local char t_read_buffer[kReadChunkOctets];
// Unprocessed input the drain holds while a write waits. A client that pipelines more than
// this without reading our replies is not a POP3 client; the drain stops until the session
// catches up (mpop pipelines at most 100 commands, about 1.5 KiB).
constexpr size_t kMaxInboxOctets = 64 * 1024;
// An inbox that grew for a pipelined batch is given back once handed over; a small one keeps
// its capacity for the next command.
constexpr size_t kKeptInboxCapacity = 1024;

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
      watchdog_timer_(socket_.get_executor()),
      auth_timer_(socket_.get_executor()),
      connected_at_(std::chrono::steady_clock::now()),
      last_activity_(connected_at_) {}

Connection::~Connection() {
  if (on_closed_) {
    on_closed_();
  }
}

void Connection::start() {
  auto self = shared_from_this();
  // Reads and writes are attempted without blocking and fall back to readiness waits.
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
  asio::co_spawn(socket_.get_executor(), run(), log_exception);
  asio::co_spawn(socket_.get_executor(), watchdog(), log_exception);
}

void Connection::shut_down() {
  if (!closed_) {
    shutdown_requested_ = true;
    close_socket();
  }
}

void Connection::close_socket() {
  if (closed_) {
    return;
  }
  closed_ = true;
  draining_ = false;
  if (tls_) {
    // RFC 8446 §6.1: end with close_notify so the peer can tell the end from a truncation.
    // One non-blocking attempt: the alert is tiny and a peer that reads nothing gets none.
    tls_->close_notify();
  }
  asio::error_code ignored;
  // Closing cancels every pending wait; their coroutines and callbacks see closed_.
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  watchdog_timer_.cancel();
  auth_timer_.cancel();
}

asio::awaitable<void> Connection::run() {
  auto self = shared_from_this();
  if (info_.tls_mode == TlsMode::kImplicit) {
    // RFC 8314 §3.3: handshake first, greet after; nothing is read as POP3 before it. The
    // watchdog's pre-login deadline covers a client that stalls mid-handshake.
    const bool secured = co_await start_tls();
    if (!secured) {
      close_socket();
      co_return;
    }
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
        if (std::optional<std::string> user = session_.take_unreported_auth_failure()) {
          // A wrong SCRAM proof, decided inside the session: counted and delayed like any
          // failed password check (authenticate()), before its -ERR goes out.
          auto delay = host_.on_auth_failure(info_.remote_ip, *user);
          if (delay.count() > 0) {
            co_await wait_unless_closed(delay);
          }
          if (closed_) {
            break;  // the loop aborts the session
          }
        }
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
          session_.receive(inbox_);
          if (inbox_.capacity() > kKeptInboxCapacity) {
            std::string().swap(inbox_);
          } else {
            inbox_.clear();
          }
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
          co_await read_input();
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

Connection::ReadOutcome Connection::read_now() {
  if (!tls_) {
    asio::error_code ec;
    size_t n = socket_.read_some(asio::buffer(t_read_buffer, sizeof t_read_buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      read_may_have_more_ = false;
      return ReadOutcome::kWantRead;
    }
    if (ec) {
      eof_ = true;
      return ReadOutcome::kEnd;
    }
    read_may_have_more_ = n == sizeof t_read_buffer;
    inbox_.append(t_read_buffer, n);
    last_activity_ = std::chrono::steady_clock::now();
    return ReadOutcome::kData;
  }
  tls::IoResult r = tls_->read(t_read_buffer, sizeof t_read_buffer);
  switch (r.state) {
    case tls::IoState::kDone:
      inbox_.append(t_read_buffer, r.bytes);
      last_activity_ = std::chrono::steady_clock::now();
      return ReadOutcome::kData;
    case tls::IoState::kWantRead:
      return ReadOutcome::kWantRead;
    case tls::IoState::kWantWrite:
      return ReadOutcome::kWantWrite;
    case tls::IoState::kClosed:
      break;
    case tls::IoState::kError:
      log::info("tls-error").kv("rip", info_.remote_ip).kv("error", tls_->error_text());
      break;
  }
  eof_ = true;
  return ReadOutcome::kEnd;
}

asio::awaitable<void> Connection::read_input() {
  // Plain: after a short read the client has said all it has, so wait for readiness first
  // instead of spending a read that fails. TLS: OpenSSL may hold decrypted bytes already.
  bool try_first = tls_ != nullptr || read_may_have_more_;
  auto want = asio::socket_base::wait_read;
  for (;;) {
    // Never touch OpenSSL once the socket is closed: its descriptor may be reused already.
    if (closed_) {
      co_return;
    }
    if (try_first) {
      ReadOutcome outcome = read_now();
      if (outcome == ReadOutcome::kData || outcome == ReadOutcome::kEnd) {
        co_return;
      }
      want = outcome == ReadOutcome::kWantWrite ? asio::socket_base::wait_write
                                                : asio::socket_base::wait_read;
    }
    try_first = true;
    // (co_await results go into named variables: GCC 12 miscompiles some coroutines that
    // co_await inside a condition.)
    const bool ready = co_await wait_socket(want);
    if (!ready) {
      co_return;
    }
  }
}

void Connection::start_drain() {
  if (closed_ || eof_ || inbox_.size() >= kMaxInboxOctets) {
    return;
  }
  draining_ = true;
  if (drain_wait_pending_) {
    return;  // a wait from an earlier write is still registered; it serves this one too
  }
  drain_wait_pending_ = true;
  socket_.async_wait(
      asio::socket_base::wait_read,
      [self = shared_from_this()](const asio::error_code& ec) { self->on_drain_readable(ec); });
}

void Connection::on_drain_readable(const asio::error_code& ec) {
  drain_wait_pending_ = false;
  if (ec || closed_ || !draining_) {
    return;  // closed, or the write finished meanwhile: the session reads for itself again
  }
  for (;;) {
    if (inbox_.size() >= kMaxInboxOctets) {
      draining_ = false;  // backpressure: the client waits until the session catches up
      return;
    }
    ReadOutcome outcome = read_now();
    if (outcome == ReadOutcome::kData) {
      continue;
    }
    if (outcome == ReadOutcome::kWantRead) {
      start_drain();
    }
    // kWantWrite (TLS): the waiting write makes the progress that reading needs first.
    // kEnd: eof_ is set; the session sees it after the input before it.
    return;
  }
}

asio::awaitable<asio::error_code> Connection::write_all(std::string_view data) {
  asio::error_code result;
  while (!data.empty()) {
    // Never touch OpenSSL once the socket is closed: its descriptor may be reused already.
    if (closed_) {
      result = asio::error::make_error_code(asio::error::operation_aborted);
      break;
    }
    auto want = asio::socket_base::wait_write;
    if (!tls_) {
      // Write at once; only a full socket buffer makes us wait (no completion is posted for
      // the common case of a reply that fits).
      asio::error_code ec;
      size_t n = socket_.write_some(asio::buffer(data.data(), data.size()), ec);
      if (!ec) {
        data.remove_prefix(n);
        continue;
      }
      if (ec != asio::error::would_block && ec != asio::error::try_again) {
        result = ec;
        break;
      }
    } else {
      tls::IoResult r = tls_->write(data);
      if (r.state == tls::IoState::kDone) {
        data.remove_prefix(r.bytes);
        continue;
      }
      if (r.state == tls::IoState::kClosed || r.state == tls::IoState::kError) {
        result = asio::error::make_error_code(asio::error::connection_aborted);
        break;
      }
      if (r.state == tls::IoState::kWantRead) {
        want = asio::socket_base::wait_read;
      }
    }
    // The client is not reading; it may be blocked writing more commands to us.
    start_drain();
    const bool ready = co_await wait_socket(want);
    if (!ready) {
      result = asio::error::make_error_code(asio::error::operation_aborted);
      break;
    }
  }
  stop_drain();
  co_return result;
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
  // whatever it sent anyway must not be executed inside TLS: drop what has been read.
  inbox_.clear();
  read_may_have_more_ = false;
  // The "+OK" in plaintext; the handshake starts right after its CRLF.
  std::string_view ok = session_.pending_output();
  asio::error_code ec = co_await write_all(ok);
  inbox_.clear();  // and whatever the drain read while the +OK waited
  if (ec || closed_) {
    close_socket();  // the run loop then ends the session (kIoError or kTimeout)
    co_return;
  }
  session_.consume_output(ok.size());
  const bool secured = co_await start_tls();
  if (!secured) {
    close_socket();
  }
}

asio::awaitable<void> Connection::authenticate() {
  auto self = shared_from_this();
  auto request = std::make_shared<auth::AuthRequest>(session_.auth_request());
  // The address's turn first (SessionHost::admit_auth): while it owes a delay, its checks run
  // one at a time whichever connection makes them. The wait is a timer, never the loop; it
  // counts towards login_timeout_s like any other time before login, so the watchdog may close
  // a connection that is still waiting (the turn is then not used: nothing is checked).
  const AuthTurn turn = host_.admit_auth(request->remote_ip, request->user);
  if (turn.refused) {
    request->password.wipe();
    // RFC 3206: [SYS/TEMP], not [AUTH]. The credentials were not looked at, so telling the
    // client they are wrong would be false (and makes clients drop a saved password); the
    // refusal is a server-side limit that passes if the client tries again later.
    auth::AuthResult refused;
    refused.status = Status::temporary("too many login attempts from this address, not checked");
    session_.on_auth_result(std::move(refused));
    co_return;
  }
  if (turn.wait.count() > 0) {
    co_await wait_unless_closed(turn.wait);
    if (closed_) {
      request->password.wipe();
      co_return;  // the run loop aborts the session; the password was never checked
    }
  }
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
  if (request->method == auth::AuthMethod::kScramLookup) {
    // Only the credentials to run SCRAM with: neither a success nor a failure yet. An unknown
    // user gets made-up ones and fails at the proof like a wrong password, which the session
    // reports through take_unreported_auth_failure(); a delay here would tell unknown users
    // apart, and a success here would clear the counter of a user whose password is guessed.
  } else if (result.status.code() == ErrorCode::kAuthFailed) {
    auto delay = host_.on_auth_failure(request->remote_ip, request->user);
    if (delay.count() > 0) {
      co_await wait_unless_closed(delay);
    }
  } else if (result.status.is_ok()) {
    host_.on_auth_success(request->remote_ip, request->user);
  }
  request->password.wipe();
  session_.on_auth_result(std::move(result));
}

asio::awaitable<void> Connection::wait_unless_closed(std::chrono::milliseconds delay) {
  if (closed_) {
    co_return;
  }
  // A member timer, so close_socket() cancels it: a connection closed while it waits (watchdog,
  // shutdown) is released at once, not when the delay ends.
  auth_timer_.expires_after(delay);
  co_await auth_timer_.async_wait(kUseTuple);
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
  pop3::ServerSession* session = &session_;
  in_pool_ = true;
  // `self` keeps the session (and so its maildrops) alive until the commit has finished, even
  // if the peer is gone: a QUIT that was received is carried out (RFC 1939 §6). Nothing else
  // touches the session while this coroutine waits for the job.
  auto job = [self, session] { return session->run_update(); };
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
