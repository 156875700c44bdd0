// Injectable randomness for nonces (APOP timestamps, SASL challenges), salts and unique names.
// Production uses the OS CSPRNG (getrandom); tests use a seeded fake.
//
// Thread-safety: SystemRandom is safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace poplar {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<uint8_t> out) = 0;

  uint64_t next_u64();
  // n random bytes as 2n lowercase hex digits.
  std::string hex(size_t n);
};

class SystemRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override;
  static SystemRandom& instance();
};

}  // namespace poplar
