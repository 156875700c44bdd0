// The load generator's event loops, connections and sessions. See bench_runner.h.
//
// Reading: a connection in a session reads with asio's async_read_some into a buffer of its
// own, kept from session to session: asio tries the recv at once and, if the socket is empty,
// waits for epoll with no further system call (an async_wait costs an epoll_ctl to re-arm the
// descriptor every time, which a VM makes expensive). Connections of the idle scenario, which
// may be 10,000 and more, own no buffer: they wait for readability and then recv into their
// loop's shared buffer, parsing before they yield again; so do TLS connections, whose
// descriptor OpenSSL reads itself. Writes go out with one non-blocking send(2), falling back to
// asio's async_write when the socket is full.
//
// GCC 12.2 caution: every co_await result is stored in a named variable before it is tested.
// With a co_await inside a condition (`if (!co_await f())`, `a && co_await g()`) next to a
// `co_return co_await h()` of the same awaitable type, GCC 12 built frames whose resume index
// was read 8 octets off and the process died with SIGILL (reproduced outside Poplar).
//
// Thread-safety: a Worker and its Clients live on the worker's thread; they share only the
// atomics and the mutex-guarded error table in Shared with other threads.
#include "bench/bench_runner.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "net/asio_config.h"
#include "pop3/client_response.h"
#include "tls/tls_connection.h"
#include "tls/tls_context.h"

namespace poplar::bench {
namespace {

using Clock = std::chrono::steady_clock;
using net::kUseTuple;
using pop3::ResponseShape;

// One read takes what the kernel holds, up to this: a RETR of a big message comes in a few
// reads. Busy connections own a buffer (asio reads into it, speculatively and without an
// epoll_ctl per read); idle-scenario connections share their loop's (see pump()).
constexpr size_t kReadBufferOctets = 256 * 1024;
// Smaller own buffers when there are many connections: memory stays below about 64 MiB.
constexpr size_t kSmallReadBufferOctets = 64 * 1024;
constexpr size_t kOwnBuffersBudgetOctets = 64u * 1024 * 1024;
// A connection with no progress for this long is closed and counted as an error, so a server
// that stops answering cannot hang the run (it is far above any sane reply time).
constexpr auto kIoTimeout = std::chrono::seconds(60);
constexpr auto kWatchdogInterval = std::chrono::seconds(1);
// A connect that fails after earlier ones worked (a full backlog, ports in TIME_WAIT) is
// retried after this pause rather than at once in a tight loop.
constexpr auto kReconnectDelay = std::chrono::milliseconds(10);
// Server text in our error messages is cut to this many octets.
constexpr size_t kMaxQuotedOctets = 160;

// Tags name the command whose reply an event belongs to; RETR's carry the message number.
enum Tag : uint32_t {
  kConnect = 1,
  kHandshake,
  kGreeting,
  kStls,
  kUser,
  kPass,
  kStat,
  kList,
  kUidl,
  kQuit,
};
constexpr uint32_t kRetrTag = 0x80000000u;

std::string_view tag_name(uint32_t tag) {
  if (tag & kRetrTag) {
    return "RETR";
  }
  switch (tag) {
    case kConnect:
      return "connect";
    case kHandshake:
      return "TLS handshake";
    case kGreeting:
      return "greeting";
    case kStls:
      return "STLS";
    case kUser:
      return "USER";
    case kPass:
      return "PASS";
    case kStat:
      return "STAT";
    case kList:
      return "LIST";
    case kUidl:
      return "UIDL";
    case kQuit:
      return "QUIT";
  }
  return "?";
}

// Untrusted server text made safe for a terminal: control and non-ASCII octets become '?'.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, kMaxQuotedOctets));
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      c = '?';
    }
  }
  if (text.size() > kMaxQuotedOctets) {
    out += "...";
  }
  return out;
}

// FNV-1a: UIDLs are compared by hash first, by content only when two hashes match.
uint64_t hash_of(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t nanoseconds(Clock::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return ns > 0 ? static_cast<uint64_t>(ns) : 0;
}

void append_retr(std::string& out, uint32_t number) {
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, number);
  out.append("RETR ");
  out.append(digits, end);
  out.append("\r\n");
}

// State every loop shares.
struct Shared {
  Shared(const BenchPlan& plan_in, const std::vector<Credential>& users_in, ssl_ctx_st* tls)
      : plan(plan_in), users(users_in), tls_ctx(tls) {}

  // Counts one occurrence of an error kind; the first of each kind is printed on stderr.
  void report(const std::string& kind, std::string_view detail) {
    std::lock_guard lock(errors_mutex);
    auto [it, first] = error_kinds.try_emplace(kind, 0);
    ++it->second;
    if (first) {
      std::fprintf(stderr, "poplar bench: %s: %.*s (first of its kind; the rest are counted)\n",
                   kind.c_str(), static_cast<int>(detail.size()), detail.data());
    }
  }
  void report_connect_failure(const std::string& error, bool timed_out) {
    std::lock_guard lock(errors_mutex);
    if (first_connect_error.empty()) {
      first_connect_error = error;
    }
    connect_timed_out = connect_timed_out || timed_out;
  }
  void notify() {
    std::lock_guard lock(mutex);
    changed.notify_all();
  }

  const BenchPlan& plan;
  const std::vector<Credential>& users;
  ssl_ctx_st* tls_ctx;
  asio::ip::tcp::endpoint endpoint;
  Clock::time_point deadline;

  std::atomic<bool> stop{false};
  std::atomic<int64_t> sessions_left{0};  // --sessions: tickets still to hand out
  std::atomic<uint64_t> failed_sessions{0};
  std::atomic<bool> any_connected{false};
  // idle
  std::atomic<uint32_t> login_phase_done{0};
  std::atomic<uint32_t> logged_in{0};
  std::atomic<uint32_t> workers_running{0};
  std::mutex mutex;
  std::condition_variable changed;

  std::mutex errors_mutex;
  std::map<std::string, uint64_t> error_kinds;
  std::string first_connect_error;
  bool connect_timed_out = false;
};

class Worker;

// One connection slot: runs sessions one after another, each on a fresh TCP connection.
class Client : public pop3::ResponseHandler {
 public:
  Client(Worker& worker, Shared& shared);

  asio::awaitable<void> run();
  // Closes a connection that made no progress for kIoTimeout (the watchdog).
  void check_stall(Clock::time_point now);
  const Counters& counters() const { return counters_; }

  // pop3::ResponseHandler
  void on_status(const pop3::StatusLine& status, uint32_t tag) override;
  void on_line(std::string_view line, uint32_t tag) override;
  void on_body_end(uint64_t payload_octets, uint32_t tag) override;

 private:
  enum class End { kDone, kLoggedIn, kFailed, kConnectFailed };

  asio::awaitable<void> run_idle();
  asio::awaitable<End> session(uint32_t user);
  asio::awaitable<End> session_steps(Clock::time_point started);
  asio::awaitable<bool> connect();
  asio::awaitable<bool> log_in();
  asio::awaitable<bool> retr_all();
  asio::awaitable<bool> quit();
  asio::awaitable<bool> handshake();
  // Sends command (if any), expects one response of the shape, reads until it is complete.
  // False on an I/O or protocol error or an -ERR (each already counted).
  asio::awaitable<bool> step(std::string_view command, ResponseShape shape, uint32_t tag);
  asio::awaitable<bool> write(std::string_view data, uint32_t tag);
  // Reads and parses until no response is pending.
  asio::awaitable<bool> pump(uint32_t tag);
  asio::awaitable<bool> wait(asio::socket_base::wait_type type, uint32_t tag);
  void close();

  void error(uint32_t tag, std::string_view what, std::string_view detail);
  void io_error(uint32_t tag, const asio::error_code& ec);
  void verify_failure(std::string_view what, const std::string& detail);
  std::string who() const;

  Worker& worker_;
  Shared& shared_;
  asio::ip::tcp::socket socket_;
  std::unique_ptr<tls::TlsConnection> tls_;
  pop3::ClientResponseParser parser_;
  Counters counters_;
  const Credential* user_ = nullptr;
  bool connected_once_ = false;
  // The read buffer of a busy connection (lazily allocated, kept across sessions); null for the
  // idle scenario, which reads into the loop's shared buffer.
  std::unique_ptr<char[]> own_buffer_;
  size_t own_buffer_octets_ = 0;
  bool drained_ = false;  // shared buffer: the last read found the socket empty, no yield since
  bool err_ = false;      // an -ERR (or other bad status) arrived in this session
  bool busy_ = false;     // in a session (the watchdog applies)
  bool timed_out_ = false;
  Clock::time_point last_progress_;

  // Per-session reply state, reused (capacity kept) from session to session.
  bool stat_ok_ = false;
  uint64_t stat_messages_ = 0;
  uint64_t stat_octets_ = 0;
  uint32_t listing_next_ = 1;  // the message number the next LIST/UIDL line must have
  uint64_t listing_octets_ = 0;
  std::vector<uint64_t> sizes_;  // LIST sizes by number - 1 (retr scenarios)
  struct UidKey {
    uint64_t hash;
    uint32_t offset;
    uint32_t length;
  };
  std::vector<UidKey> uid_keys_;
  std::string uid_arena_;
  std::vector<Clock::time_point> sent_at_;  // RETR n was written at sent_at_[n - 1]
  uint32_t next_retr_ = 1;                  // retr-pipelined: the next RETR to send
  std::string command_;                     // RETR commands being built
  std::string refill_;                      // retr-pipelined: RETRs queued by on_body_end
};

class Worker {
 public:
  explicit Worker(Shared& shared)
      : shared_(shared),
        buffer_(new char[kReadBufferOctets]),
        hold_timer_(io_, Clock::time_point::max()),
        watchdog_timer_(io_) {}

  Shared& shared() { return shared_; }
  asio::io_context& io() { return io_; }
  char* buffer() { return buffer_.get(); }
  LatencyHistogram& latency() { return latency_; }

  void add_user(uint32_t user) {
    free_.push_back(user);
    ++free_count_;
  }
  void add_client() { clients_.push_back(std::make_unique<Client>(*this, shared_)); }

  void start() {
    passes_left_.assign(shared_.users.size(), shared_.plan.passes);
    active_ = clients_.size();
    for (auto& client : clients_) {
      asio::co_spawn(io_, client->run(), [this](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            shared_.report("internal error", ex.what());
          }
        }
        if (--active_ == 0) {
          watchdog_timer_.cancel();
        }
      });
    }
    asio::co_spawn(io_, watchdog(), [this](std::exception_ptr e) {
      if (e) {
        shared_.report("internal error", "watchdog failed");
      }
    });
  }

  void run() {
    io_.run();
    shared_.workers_running.fetch_sub(1);
    shared_.notify();
  }

  // idle: ends the hold of every connection of this loop (from any thread).
  void release() {
    asio::post(io_, [this] {
      released_ = true;
      hold_timer_.cancel();
    });
  }
  asio::awaitable<void> wait_release() {
    if (!released_) {
      co_await hold_timer_.async_wait(kUseTuple);
    }
  }

  // The next free user (FIFO), or nothing when every user is busy or done. In retr
  // scenarios taking a user uses up one of its passes.
  std::optional<uint32_t> take_user() {
    if (free_count_ == 0) {
      return std::nullopt;
    }
    uint32_t user = free_[free_head_];
    free_head_ = (free_head_ + 1) % free_.size();
    --free_count_;
    if (is_retr(shared_.plan.scenario)) {
      --passes_left_[user];
    }
    return user;
  }
  void give_back(uint32_t user) {
    if (is_retr(shared_.plan.scenario) && passes_left_[user] == 0) {
      return;
    }
    free_[(free_head_ + free_count_) % free_.size()] = user;
    ++free_count_;
  }

  // Timed scenarios: may another session start? Takes a --sessions ticket if there is a limit.
  bool may_start_session() {
    if (shared_.stop.load(std::memory_order_relaxed)) {
      return false;
    }
    if (shared_.plan.has_deadline && Clock::now() >= shared_.deadline) {
      return false;
    }
    if (shared_.plan.sessions > 0 &&
        shared_.sessions_left.fetch_sub(1, std::memory_order_relaxed) <= 0) {
      return false;
    }
    return true;
  }
  // A session did not complete: its --sessions ticket goes back, unless as many sessions
  // failed as were asked for (then a broken setup ends the run instead of looping).
  void session_failed() {
    if (shared_.plan.sessions == 0) {
      return;
    }
    shared_.sessions_left.fetch_add(1, std::memory_order_relaxed);
    if (shared_.failed_sessions.fetch_add(1, std::memory_order_relaxed) + 1 >=
        shared_.plan.sessions) {
      shared_.stop.store(true, std::memory_order_relaxed);
    }
  }

  void login_phase_done(bool logged_in) {
    if (logged_in) {
      shared_.logged_in.fetch_add(1);
    }
    if (shared_.login_phase_done.fetch_add(1) + 1 >= shared_.plan.connections) {
      shared_.notify();
    }
  }

  Counters counters() const {
    Counters total;
    for (const auto& client : clients_) {
      total.add(client->counters());
    }
    return total;
  }

 private:
  asio::awaitable<void> watchdog() {
    while (active_ > 0) {
      watchdog_timer_.expires_after(kWatchdogInterval);
      co_await watchdog_timer_.async_wait(kUseTuple);
      Clock::time_point now = Clock::now();
      for (auto& client : clients_) {
        client->check_stall(now);
      }
    }
  }

  Shared& shared_;
  asio::io_context io_{1};
  std::unique_ptr<char[]> buffer_;
  LatencyHistogram latency_;
  // Free users: a ring of free_count_ entries from free_head_ (capacity: this loop's users).
  std::vector<uint32_t> free_;
  size_t free_head_ = 0;
  size_t free_count_ = 0;
  std::vector<uint32_t> passes_left_;  // by user index; only this loop's users are touched
  asio::steady_timer hold_timer_;
  bool released_ = false;
  asio::steady_timer watchdog_timer_;
  size_t active_ = 0;
  // Last: clients (and their sockets) go before the io_context.
  std::vector<std::unique_ptr<Client>> clients_;
};

Client::Client(Worker& worker, Shared& shared)
    : worker_(worker), shared_(shared), socket_(worker.io()) {}

std::string Client::who() const {
  return user_ == nullptr ? std::string() : " (user " + user_->user + ")";
}

void Client::error(uint32_t tag, std::string_view what, std::string_view detail) {
  ++counters_.errors;
  std::string kind(tag_name(tag));
  kind += ' ';
  kind += what;
  shared_.report(kind, std::string(detail) + who());
}

void Client::io_error(uint32_t tag, const asio::error_code& ec) {
  if (timed_out_) {
    error(tag, "timeout", "no progress for " + std::to_string(kIoTimeout.count()) + " s");
  } else if (ec == asio::error::eof) {
    error(tag, "connection closed", "the server closed the connection");
  } else {
    error(tag, "I/O error", ec.message());
  }
}

void Client::verify_failure(std::string_view what, const std::string& detail) {
  ++counters_.verify_failures;
  shared_.report("verify " + std::string(what), detail + who());
}

void Client::check_stall(Clock::time_point now) {
  if (busy_ && socket_.is_open() && now - last_progress_ > kIoTimeout) {
    timed_out_ = true;
    // Wakes the pending operation with an error; the coroutine then stops using the socket
    // (and TLS, whose descriptor this was) and ends the session.
    asio::error_code ignored;
    socket_.close(ignored);
  }
}

void Client::close() {
  if (tls_ && socket_.is_open()) {
    tls_->close_notify();
  }
  tls_.reset();
  asio::error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<void> Client::run() {
  if (shared_.plan.scenario == Scenario::kIdle) {
    co_await run_idle();
    co_return;
  }
  for (;;) {
    std::optional<uint32_t> user = worker_.take_user();
    if (!user) {
      break;
    }
    if (is_timed(shared_.plan.scenario) && !worker_.may_start_session()) {
      worker_.give_back(*user);
      break;
    }
    End end = co_await session(*user);
    worker_.give_back(*user);
    if (end == End::kDone) {
      continue;
    }
    worker_.session_failed();
    if (end == End::kConnectFailed) {
      if (!connected_once_) {
        break;  // this slot never reached the server; the others tell whether any can
      }
      asio::steady_timer pause(worker_.io(), kReconnectDelay);
      co_await pause.async_wait(kUseTuple);
    }
  }
}

asio::awaitable<void> Client::run_idle() {
  bool logged_in = false;
  while (!logged_in) {
    std::optional<uint32_t> user = worker_.take_user();
    if (!user) {
      break;  // no spare user left to retry with
    }
    user_ = &shared_.users[*user];
    const Clock::time_point started = Clock::now();
    busy_ = true;
    last_progress_ = started;
    err_ = false;
    const bool connected = co_await connect();
    if (!connected) {
      busy_ = false;
      if (!connected_once_) {
        break;
      }
      continue;
    }
    const bool logged_in_now = co_await log_in();
    if (logged_in_now) {
      logged_in = true;
      worker_.latency().record(nanoseconds(Clock::now() - started));
    } else {
      close();
    }
    busy_ = false;
  }
  worker_.login_phase_done(logged_in);
  if (!logged_in) {
    co_return;
  }
  co_await worker_.wait_release();
  busy_ = true;
  last_progress_ = Clock::now();
  drained_ = false;
  const bool said_goodbye = co_await quit();  // failures are counted inside
  (void)said_goodbye;
  close();
  busy_ = false;
}

asio::awaitable<Client::End> Client::session(uint32_t user) {
  user_ = &shared_.users[user];
  const Clock::time_point started = Clock::now();
  busy_ = true;
  last_progress_ = started;
  err_ = false;
  End end = co_await session_steps(started);
  close();
  busy_ = false;
  co_return end;
}

asio::awaitable<Client::End> Client::session_steps(Clock::time_point started) {
  const bool connected = co_await connect();
  if (!connected) {
    co_return End::kConnectFailed;
  }
  const bool logged_in = co_await log_in();
  if (!logged_in) {
    co_return End::kFailed;
  }
  bool ok = false;
  switch (shared_.plan.scenario) {
    case Scenario::kLogin:
      ok = co_await step("STAT\r\n", ResponseShape::kStatusOnly, kStat);
      break;
    case Scenario::kList:
      ok = co_await step("LIST\r\n", ResponseShape::kLines, kList);
      break;
    case Scenario::kUidl:
      ok = co_await step("UIDL\r\n", ResponseShape::kLines, kUidl);
      break;
    case Scenario::kRetr:
    case Scenario::kRetrPipelined:
      ok = co_await step("STAT\r\n", ResponseShape::kStatusOnly, kStat);
      if (ok) {
        ok = co_await step("LIST\r\n", ResponseShape::kLines, kList);
      }
      if (ok) {
        ok = co_await retr_all();
      }
      break;
    case Scenario::kIdle:
      co_return End::kLoggedIn;
  }
  if (ok) {
    ok = co_await quit();
  }
  if (!ok) {
    co_return End::kFailed;
  }
  if (is_timed(shared_.plan.scenario)) {
    // The whole session: connect to QUIT's reply.
    worker_.latency().record(nanoseconds(Clock::now() - started));
  }
  co_return End::kDone;
}

asio::awaitable<bool> Client::connect() {
  timed_out_ = false;
  auto [ec] = co_await socket_.async_connect(shared_.endpoint, kUseTuple);
  if (ec) {
    std::string message = timed_out_ ? "timed out" : ec.message();
    shared_.report_connect_failure(message, timed_out_);
    error(kConnect, "failed", message);
    close();
    co_return false;
  }
  // async_connect left the descriptor in O_NONBLOCK mode: our own recv/send below and
  // OpenSSL's never block the loop.
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!own_buffer_ && shared_.plan.scenario != Scenario::kIdle) {
    own_buffer_octets_ =
        static_cast<size_t>(shared_.plan.connections) * kReadBufferOctets <= kOwnBuffersBudgetOctets
            ? kReadBufferOctets
            : kSmallReadBufferOctets;
    own_buffer_ = std::make_unique_for_overwrite<char[]>(own_buffer_octets_);
  }
  if (!connected_once_) {
    connected_once_ = true;
    shared_.any_connected.store(true, std::memory_order_relaxed);
  }
  drained_ = false;  // resumed after a yield: the greeting may be there already
  parser_.reset();
  refill_.clear();
  last_progress_ = Clock::now();
  co_return true;
}

asio::awaitable<bool> Client::log_in() {
  const TlsMode tls = shared_.plan.tls;
  if (tls == TlsMode::kImplicit) {
    const bool secure = co_await handshake();
    if (!secure) {
      co_return false;
    }
  }
  const bool greeted = co_await step(std::string_view(), ResponseShape::kStatusOnly, kGreeting);
  if (!greeted) {
    co_return false;
  }
  if (tls == TlsMode::kStartTls) {
    const bool stls_accepted = co_await step("STLS\r\n", ResponseShape::kStatusOnly, kStls);
    if (!stls_accepted) {
      co_return false;
    }
    const bool secure = co_await handshake();
    if (!secure) {
      co_return false;
    }
  }
  const bool user_accepted = co_await step(user_->user_command, ResponseShape::kStatusOnly, kUser);
  if (!user_accepted) {
    co_return false;
  }
  const bool result = co_await step(user_->pass_command.view(), ResponseShape::kStatusOnly, kPass);
  co_return result;
}

asio::awaitable<bool> Client::quit() {
  const bool quit_accepted = co_await step("QUIT\r\n", ResponseShape::kStatusOnly, kQuit);
  if (!quit_accepted) {
    co_return false;
  }
  ++counters_.sessions;
  co_return true;
}

asio::awaitable<bool> Client::retr_all() {
  const auto count = static_cast<uint32_t>(sizes_.size());
  sent_at_.resize(count);
  if (shared_.plan.scenario == Scenario::kRetr) {
    for (uint32_t n = 1; n <= count; ++n) {
      command_.clear();
      append_retr(command_, n);
      sent_at_[n - 1] = Clock::now();
      const bool retrieved = co_await step(command_, ResponseShape::kCount, kRetrTag | n);
      if (!retrieved) {
        co_return false;
      }
    }
    co_return true;
  }
  if (count == 0) {
    co_return true;
  }
  // RFC 2449 §6.6 PIPELINING: the first window in one write; each reply's end queues the next
  // RETR (on_body_end), written after the read that completed it.
  const uint32_t depth = shared_.plan.pipeline_depth == 0
                             ? count
                             : std::min<uint32_t>(shared_.plan.pipeline_depth, count);
  command_.clear();
  const Clock::time_point now = Clock::now();
  for (uint32_t n = 1; n <= depth; ++n) {
    append_retr(command_, n);
    parser_.expect(ResponseShape::kCount, kRetrTag | n);
    sent_at_[n - 1] = now;
  }
  next_retr_ = depth + 1;
  const bool sent = co_await write(command_, kRetrTag);
  if (!sent) {
    co_return false;
  }
  const bool received = co_await pump(kRetrTag);
  if (!received) {
    co_return false;
  }
  co_return !err_;
}

asio::awaitable<bool> Client::handshake() {
  auto made =
      tls::new_client_connection(shared_.tls_ctx, socket_.native_handle(), shared_.plan.host);
  if (!made) {
    error(kHandshake, "failed", made.status().message());
    co_return false;
  }
  tls_ = std::move(*made);
  for (;;) {
    tls::IoResult r = tls_->handshake();
    if (r.state == tls::IoState::kDone) {
      break;
    }
    if (r.state == tls::IoState::kWantRead || r.state == tls::IoState::kWantWrite) {
      const auto type = r.state == tls::IoState::kWantRead ? asio::socket_base::wait_read
                                                           : asio::socket_base::wait_write;
      const bool ready = co_await wait(type, kHandshake);
      if (!ready) {
        co_return false;
      }
      continue;
    }
    error(
        kHandshake, "failed",
        r.state == tls::IoState::kClosed ? "the server closed the connection" : tls_->error_text());
    co_return false;
  }
  last_progress_ = Clock::now();
  co_return true;
}

asio::awaitable<bool> Client::step(std::string_view command, ResponseShape shape, uint32_t tag) {
  parser_.expect(shape, tag);
  if (!command.empty()) {
    const bool sent = co_await write(command, tag);
    if (!sent) {
      co_return false;
    }
  }
  const bool answered = co_await pump(tag);
  if (!answered) {
    co_return false;
  }
  co_return !err_;
}

asio::awaitable<bool> Client::wait(asio::socket_base::wait_type type, uint32_t tag) {
  auto [ec] = co_await socket_.async_wait(type, kUseTuple);
  if (ec || !socket_.is_open()) {
    io_error(tag, ec ? ec : asio::error::operation_aborted);
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Client::write(std::string_view data, uint32_t tag) {
  if (tls_) {
    while (!data.empty()) {
      tls::IoResult r = tls_->write(data);
      switch (r.state) {
        case tls::IoState::kDone:
          data.remove_prefix(r.bytes);
          break;
        case tls::IoState::kWantRead:
        case tls::IoState::kWantWrite: {
          const auto type = r.state == tls::IoState::kWantRead ? asio::socket_base::wait_read
                                                               : asio::socket_base::wait_write;
          const bool ready = co_await wait(type, tag);
          if (!ready) {
            co_return false;
          }
          break;
        }
        case tls::IoState::kClosed:
          io_error(tag, asio::error::eof);
          co_return false;
        case tls::IoState::kError:
          error(tag, "TLS error", tls_->error_text());
          co_return false;
      }
    }
    co_return true;
  }
  // Commands are small: the socket almost always takes them whole, at once, in one send(2)
  // (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
  ssize_t sent =
      ::send(socket_.native_handle(), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent == static_cast<ssize_t>(data.size())) {
    co_return true;
  }
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    io_error(tag, asio::error_code(errno, asio::system_category()));
    co_return false;
  }
  data.remove_prefix(sent > 0 ? static_cast<size_t>(sent) : 0);
  drained_ = false;  // we are about to yield
  auto [wec, written] =
      co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), kUseTuple);
  if (wec) {
    io_error(tag, wec);
    co_return false;
  }
  last_progress_ = Clock::now();
  co_return true;
}

asio::awaitable<bool> Client::pump(uint32_t tag) {
  while (parser_.pending() > 0) {
    char* buffer = nullptr;
    size_t n = 0;
    if (tls_) {
      // TLS reads into the shared buffer: TlsConnection reads the descriptor itself and the
      // bytes are parsed before the next yield.
      buffer = worker_.buffer();
      tls::IoResult r = tls_->read(buffer, kReadBufferOctets);
      if (r.state == tls::IoState::kWantRead || r.state == tls::IoState::kWantWrite) {
        const auto type = r.state == tls::IoState::kWantRead ? asio::socket_base::wait_read
                                                             : asio::socket_base::wait_write;
        const bool ready = co_await wait(type, tag);
        if (!ready) {
          co_return false;
        }
        continue;
      }
      if (r.state == tls::IoState::kClosed) {
        io_error(tag, asio::error::eof);
        co_return false;
      }
      if (r.state == tls::IoState::kError) {
        error(tag, "TLS error", tls_->error_text());
        co_return false;
      }
      n = r.bytes;
    } else if (own_buffer_) {
      // asio tries the read at once when the socket may hold data, else waits for epoll
      // without re-arming it (no epoll_ctl per read, as async_wait would cost).
      buffer = own_buffer_.get();
      auto [ec, got] =
          co_await socket_.async_read_some(asio::buffer(buffer, own_buffer_octets_), kUseTuple);
      if (ec) {
        io_error(tag, ec);
        co_return false;
      }
      n = got;
    } else {
      // The shared buffer: wait for readability without a buffer, then read and parse before
      // yielding again. After a short read or EAGAIN with no yield since, the socket is empty,
      // so the wait comes first (no recv that can only fail).
      buffer = worker_.buffer();
      if (drained_) {
        const bool readable = co_await wait(asio::socket_base::wait_read, tag);
        if (!readable) {
          co_return false;
        }
        drained_ = false;
      }
      ssize_t got = ::recv(socket_.native_handle(), buffer, kReadBufferOctets, MSG_DONTWAIT);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        drained_ = errno != EINTR;
        continue;
      }
      if (got < 0) {
        io_error(tag, asio::error_code(errno, asio::system_category()));
        co_return false;
      }
      if (got == 0) {
        io_error(tag, asio::error::eof);
        co_return false;
      }
      n = static_cast<size_t>(got);
      drained_ = n < kReadBufferOctets;
    }
    last_progress_ = Clock::now();
    const size_t used = parser_.feed(std::string_view(buffer, n), *this);
    if (parser_.failed()) {
      error(tag, "protocol error", parser_.error_text());
      co_return false;
    }
    if (used < n) {
      error(tag, "protocol error",
            "the server sent more than was asked for: " +
                printable(std::string_view(buffer + used, n - used)));
      co_return false;
    }
    if (!refill_.empty()) {
      const bool sent = co_await write(refill_, tag);
      if (!sent) {
        co_return false;
      }
      refill_.clear();
    }
  }
  co_return true;
}

void Client::on_status(const pop3::StatusLine& status, uint32_t tag) {
  if (!status.ok()) {
    err_ = true;
    std::string what = status.kind == pop3::StatusKind::kErr ? "-ERR" : "unexpected continuation";
    if (!status.code.empty()) {
      what += " [" + printable(status.code) + "]";
    }
    error(tag, what, printable(status.line));
    return;
  }
  switch (tag) {
    case kStat: {
      auto listing = pop3::parse_drop_listing(status.text);
      stat_ok_ = listing.has_value();
      if (!listing) {
        verify_failure("STAT reply", "not +OK n m: " + printable(status.line));
        break;
      }
      stat_messages_ = listing->messages;
      stat_octets_ = listing->octets;
      break;
    }
    case kList:
    case kUidl:
      listing_next_ = 1;
      listing_octets_ = 0;
      sizes_.clear();
      uid_keys_.clear();
      uid_arena_.clear();
      break;
    default:
      break;
  }
}

void Client::on_line(std::string_view line, uint32_t tag) {
  if (tag == kList) {
    auto scan = pop3::parse_scan_listing(line);
    if (!scan || scan->number != listing_next_) {
      verify_failure("LIST line", "expected \"" + std::to_string(listing_next_) +
                                      " size\", got \"" + printable(line) + "\"");
      if (!scan) {
        return;
      }
    }
    ++listing_next_;
    listing_octets_ += scan->octets;
    if (is_retr(shared_.plan.scenario)) {
      sizes_.push_back(scan->octets);
    }
  } else if (tag == kUidl) {
    auto uid = pop3::parse_unique_id_listing(line);
    if (!uid || uid->number != listing_next_) {
      verify_failure("UIDL line", "expected \"" + std::to_string(listing_next_) +
                                      " uid\" (1..70 of 0x21..0x7E), got \"" + printable(line) +
                                      "\"");
      if (!uid) {
        return;
      }
    }
    ++listing_next_;
    uid_keys_.push_back(UidKey{hash_of(uid->unique_id), static_cast<uint32_t>(uid_arena_.size()),
                               static_cast<uint32_t>(uid->unique_id.size())});
    uid_arena_.append(uid->unique_id);
  }
}

void Client::on_body_end(uint64_t payload_octets, uint32_t tag) {
  if (tag & kRetrTag) {
    const uint32_t number = tag & ~kRetrTag;
    const Clock::time_point now = Clock::now();
    ++counters_.messages;
    counters_.octets += payload_octets;
    if (number >= 1 && number <= sent_at_.size()) {
      worker_.latency().record(nanoseconds(now - sent_at_[number - 1]));
    }
    if (number >= 1 && number <= sizes_.size() && sizes_[number - 1] != payload_octets) {
      verify_failure("RETR size", "message " + std::to_string(number) + ": LIST said " +
                                      std::to_string(sizes_[number - 1]) + " octets, RETR gave " +
                                      std::to_string(payload_octets));
    }
    if (shared_.plan.scenario == Scenario::kRetrPipelined && !err_ && next_retr_ <= sizes_.size()) {
      append_retr(refill_, next_retr_);
      parser_.expect(ResponseShape::kCount, kRetrTag | next_retr_);
      sent_at_[next_retr_ - 1] = now;
      ++next_retr_;
    }
    return;
  }
  if (tag == kList && is_retr(shared_.plan.scenario) && stat_ok_ &&
      (sizes_.size() != stat_messages_ || listing_octets_ != stat_octets_)) {
    verify_failure("STAT vs LIST", "STAT said " + std::to_string(stat_messages_) + " messages, " +
                                       std::to_string(stat_octets_) + " octets; LIST listed " +
                                       std::to_string(sizes_.size()) + ", " +
                                       std::to_string(listing_octets_));
  }
  if (tag == kUidl && uid_keys_.size() > 1) {
    std::sort(uid_keys_.begin(), uid_keys_.end(),
              [](const UidKey& a, const UidKey& b) { return a.hash < b.hash; });
    for (size_t i = 1; i < uid_keys_.size(); ++i) {
      if (uid_keys_[i].hash != uid_keys_[i - 1].hash) {
        continue;
      }
      // Equal hashes: compare the ids (a collision of distinct ids is not a failure).
      for (size_t j = i; j > 0 && uid_keys_[j - 1].hash == uid_keys_[i].hash; --j) {
        std::string_view a(uid_arena_.data() + uid_keys_[i].offset, uid_keys_[i].length);
        std::string_view b(uid_arena_.data() + uid_keys_[j - 1].offset, uid_keys_[j - 1].length);
        if (a == b) {
          verify_failure("UIDL unique", "the id \"" + printable(a) + "\" is listed twice");
          break;
        }
      }
    }
  }
}

}  // namespace

RunOutcome run_bench(const BenchPlan& plan, const std::vector<Credential>& users,
                     ssl_ctx_st* tls_ctx, const RunHooks& hooks) {
  RunOutcome outcome;
  outcome.report.scenario = plan.scenario;
  outcome.report.label = plan.label;
  outcome.report.connections = plan.connections;
  outcome.report.threads = plan.threads;
  outcome.report.tls = plan.tls;

  Shared shared(plan, users, tls_ctx);
  {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    asio::error_code ec;
    auto results = resolver.resolve(plan.host, std::to_string(plan.port), ec);
    if (ec || results.empty()) {
      outcome.connect_error = "cannot resolve " + plan.host + ": " + ec.message();
      outcome.report.counters.errors = 1;
      return outcome;
    }
    shared.endpoint = results.begin()->endpoint();
  }
  shared.sessions_left.store(static_cast<int64_t>(plan.sessions));

  std::vector<std::unique_ptr<Worker>> workers;
  for (uint32_t t = 0; t < plan.threads; ++t) {
    workers.push_back(std::make_unique<Worker>(shared));
  }
  // User i and connection j go to loop i % threads and j % threads: with connections <= users
  // every loop has at least as many users as connections.
  for (uint32_t i = 0; i < users.size(); ++i) {
    workers[i % plan.threads]->add_user(i);
  }
  for (uint32_t j = 0; j < plan.connections; ++j) {
    workers[j % plan.threads]->add_client();
  }

  const Clock::time_point started = Clock::now();
  shared.deadline = started + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(plan.duration_s));
  shared.workers_running.store(plan.threads);
  std::vector<std::thread> threads;
  for (auto& worker : workers) {
    worker->start();
    threads.emplace_back([w = worker.get()] { w->run(); });
  }

  if (plan.scenario == Scenario::kIdle) {
    {
      std::unique_lock lock(shared.mutex);
      shared.changed.wait(lock, [&] {
        return shared.login_phase_done.load() >= plan.connections ||
               shared.workers_running.load() == 0;
      });
    }
    if (hooks.on_ready) {
      hooks.on_ready(shared.logged_in.load());
    }
    if (hooks.hold) {
      hooks.hold();
    }
    for (auto& worker : workers) {
      worker->release();
    }
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const Clock::time_point finished = Clock::now();

  outcome.report.elapsed_s = std::chrono::duration<double>(finished - started).count();
  for (auto& worker : workers) {
    outcome.report.counters.add(worker->counters());
    outcome.report.latency.merge(worker->latency());
  }
  outcome.any_connected = shared.any_connected.load();
  outcome.connect_timed_out = shared.connect_timed_out;
  outcome.connect_error = shared.first_connect_error;
  if (!shared.error_kinds.empty()) {
    std::string summary;
    for (const auto& [kind, count] : shared.error_kinds) {
      summary += "\n  " + kind + ": " + std::to_string(count);
    }
    std::fprintf(stderr, "poplar bench: problems by kind:%s\n", summary.c_str());
  }
  return outcome;
}

}  // namespace poplar::bench
