// ConnectionLimiter: caps connections in total and per remote address (DESIGN §3, popa3d's
// MAX_SESSIONS_PER_SOURCE), and rate-limits the log lines about refusals so that a flood
// cannot flood the log too.
//
// Thread-safety: all methods are thread-safe (acquire on the accept thread, release on the
// connections' threads).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace poplar::net {

class ConnectionLimiter {
 public:
  enum class Verdict { kAccepted, kTooManyTotal, kTooManyFromAddress };

  ConnectionLimiter(uint32_t max_total, uint32_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  Verdict try_acquire(const std::string& address);
  // REQUIRES: a matching kAccepted try_acquire(address).
  void release(const std::string& address);

  // True when a refusal should be logged now: at most one line per second; `suppressed`
  // receives the number of refusals not logged since the last logged one.
  bool should_log_refusal(std::chrono::steady_clock::time_point now, uint64_t& suppressed);

  uint32_t total() const;

 private:
  const uint32_t max_total_;
  const uint32_t max_per_address_;
  mutable std::mutex mutex_;
  uint32_t total_ = 0;
  std::unordered_map<std::string, uint32_t> per_address_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  uint64_t suppressed_refusals_ = 0;
};

}  // namespace poplar::net
