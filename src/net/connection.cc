#include "net/connection.h"

#include "base/log.h"

namespace poplar::net {
namespace {

// Read size per system call. Commands are short; 4 KiB holds a long pipelined batch and keeps
// an idle connection small (DESIGN §7: a few KiB per idle connection).
constexpr size_t kReadChunkOctets = 4096;
// Unprocessed input held while the session is busy (e.g. streaming a RETR). A client that
// pipelines more than this without reading our replies is not a POP3 client; we stop reading
// until the session catches up (mpop pipelines at most 100 commands, about 1.5 KiB).
constexpr size_t kMaxInboxOctets = 64 * 1024;

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, ConnectionInfo info, SessionHost& host,
                       WorkPool& pool, std::function<void()> on_closed)
    : socket_(std::move(socket)),
      info_(std::move(info)),
      host_(host),
      pool_(pool),
      on_closed_(std::move(on_closed)),
      session_(host.session_config(info_), SystemClock::instance(), SystemRandom::instance(),
               info_.remote_ip),
      wake_timer_(socket_.get_executor()),
      inbox_drained_timer_(socket_.get_executor()),
      watchdog_timer_(socket_.get_executor()),
      connected_at_(std::chrono::steady_clock::now()),
      last_activity_(connected_at_) {}

Connection::~Connection() {
  if (on_closed_) {
    on_closed_();
  }
}

void Connection::start() {
  auto self = shared_from_this();
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
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  wake_timer_.cancel();
  inbox_drained_timer_.cancel();
  watchdog_timer_.cancel();
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  char buffer[kReadChunkOctets];
  while (!closed_) {
    if (inbox_.size() >= kMaxInboxOctets) {
      // Wait until the processor has handed the backlog to the session.
      inbox_drained_timer_.expires_at(asio::steady_timer::time_point::max());
      co_await inbox_drained_timer_.async_wait(kUseTuple);
      continue;
    }
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), kUseTuple);
    if (ec) {
      eof_ = true;
      wake();
      co_return;
    }
    last_activity_ = std::chrono::steady_clock::now();
    inbox_.append(buffer, n);
    wake();
  }
}

asio::awaitable<void> Connection::wait_for_input() {
  wake_timer_.expires_at(asio::steady_timer::time_point::max());
  co_await wake_timer_.async_wait(kUseTuple);
}

asio::awaitable<void> Connection::process_loop() {
  auto self = shared_from_this();
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
        auto [ec, n] =
            co_await asio::async_write(socket_, asio::buffer(out.data(), out.size()), kUseTuple);
        if (ec) {
          close_socket();
          break;
        }
        last_activity_ = std::chrono::steady_clock::now();
        session_.consume_output(n);
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
        // TODO(poplar): #3 the TLS upgrade; no listener offers STLS yet.
        session_.abort(pop3::CloseReason::kIoError);
        break;
      case pop3::ActionKind::kClose:
        close_socket();
        co_return;
    }
  }
}

asio::awaitable<void> Connection::authenticate() {
  auto self = shared_from_this();
  auto request = std::make_shared<auth::AuthRequest>(session_.auth_request());
  SessionHost* host = &host_;
  in_pool_ = true;
  auto job = [host, request] { return host->authenticate(*request); };
  auth::AuthResult result = co_await pool_.run(std::move(job));
  in_pool_ = false;
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
