// Deterministic "randomness" for tests: a counter-based byte stream.
#pragma once

#include "base/random.h"

namespace poplar::testing {

class FakeRandom final : public Random {
 public:
  explicit FakeRandom(uint8_t seed = 1) : next_(seed) {}
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      b = next_++;
    }
  }

 private:
  uint8_t next_;
};

}  // namespace poplar::testing
