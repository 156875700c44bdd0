// Injectable time. Production code asks a Clock; tests use testing/fake_clock.h so that
// timeouts, LOGIN-DELAY and failure delays are tested without sleeping.
//
// Thread-safety: SystemClock is safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace poplar {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for timeouts and rate limits.
  virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall-clock seconds since the epoch, for APOP timestamps, Maildir names and logs.
  virtual int64_t unix_seconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  int64_t unix_seconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

}  // namespace poplar
