#include "base/log.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <mutex>

namespace poplar::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::mutex g_sink_mutex;
std::function<void(Level, std::string_view)>* g_sink = nullptr;

// The process id for the line prefix, 0 until the first line. getpid(2) is a real system call
// (glibc stopped caching it in 2.25), so it is asked once, not once per line. A child forked
// after logging started must not log its parent's pid: the fork handler forgets the cached one
// in the child. (The server does not fork today; tests and future privilege separation may.)
std::atomic<pid_t> g_pid{0};

void forget_pid_in_child() { g_pid.store(0, std::memory_order_relaxed); }

pid_t process_id() {
  pid_t pid = g_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    // Registered before the first pid is cached, so no fork can keep a stale one.
    static const int registered = pthread_atfork(nullptr, nullptr, &forget_pid_in_child);
    (void)registered;  // fails only with ENOMEM; then a forked child would log the parent's pid
    pid = getpid();
    g_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

void write_stderr(std::string_view line) {
  char stamp[32];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string out(stamp, n);
  out += " poplar[";
  out += std::to_string(process_id());
  out += "]: ";
  out += line;
  out += '\n';
  const char* p = out.data();
  size_t left = out.size();
  while (left > 0) {
    ssize_t w = ::write(STDERR_FILENO, p, left);
    if (w <= 0) {
      return;  // nowhere to report a failing log; never block the server on it
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
}

bool needs_quoting(std::string_view value) {
  if (value.empty()) {
    return true;
  }
  for (unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=') {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string escape_value(std::string_view value) {
  if (!needs_quoting(value)) {
    return std::string(value);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

Event::Event(Level level, std::string_view name) : level_(level), line_(name) {}

Event::~Event() {
  if (static_cast<int>(level_) < g_min_level.load(std::memory_order_relaxed)) {
    return;
  }
  {
    std::lock_guard lock(g_sink_mutex);
    if (g_sink != nullptr) {
      (*g_sink)(level_, line_);
      return;
    }
  }
  write_stderr(line_);
}

Event& Event::kv(std::string_view key, std::string_view value) {
  line_ += ' ';
  line_ += key;
  line_ += '=';
  line_ += escape_value(value);
  return *this;
}

Event& Event::kv(std::string_view key, int64_t value) {
  return kv(key, std::string_view(std::to_string(value)));
}

Event& Event::kv(std::string_view key, uint64_t value) {
  return kv(key, std::string_view(std::to_string(value)));
}

void set_min_level(Level level) { g_min_level.store(static_cast<int>(level)); }

void set_sink_for_test(std::function<void(Level, std::string_view)> sink) {
  std::lock_guard lock(g_sink_mutex);
  delete g_sink;
  g_sink = new std::function<void(Level, std::string_view)>(std::move(sink));
}

void reset_sink() {
  std::lock_guard lock(g_sink_mutex);
  delete g_sink;
  g_sink = nullptr;
}

}  // namespace poplar::log
