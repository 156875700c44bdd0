// A Clock that moves only when a test says so.
#pragma once

#include "base/clock.h"

namespace poplar::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return now_; }
  int64_t unix_seconds() const override {
    return unix_ +
           std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count();
  }
  void advance(std::chrono::steady_clock::duration d) { now_ += d; }
  void set_unix_base(int64_t s) { unix_ = s; }

 private:
  std::chrono::steady_clock::time_point now_{};
  int64_t unix_ = 1700000000;
};

}  // namespace poplar::testing
