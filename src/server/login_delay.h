// LoginDelay: enforces the LOGIN-DELAY capability (RFC 2449 §6.5): a user may log in again
// only `delay` after their previous successful login. Kept in memory: a restart forgets the
// times, which errs on the side of letting users in.
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/clock.h"

namespace poplar::server {

class LoginDelay {
 public:
  LoginDelay(const Clock& clock, std::chrono::seconds delay) : clock_(clock), delay_(delay) {}

  // True when `user` may log in now; false when the last recorded login is too recent.
  bool allowed(const std::string& user);
  // Records a successful login (after the maildrop was opened).
  void record(const std::string& user);

 private:
  // Bounds the table: entries older than the delay are useless and are swept.
  void sweep(std::chrono::steady_clock::time_point now);

  const Clock& clock_;
  const std::chrono::seconds delay_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> last_login_;
  std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace poplar::server
