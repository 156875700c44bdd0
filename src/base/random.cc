#include "base/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

#include "base/hex.h"

namespace poplar {

uint64_t Random::next_u64() {
  uint8_t bytes[8];
  fill(bytes);
  uint64_t v = 0;
  for (uint8_t b : bytes) {
    v = (v << 8) | b;
  }
  return v;
}

std::string Random::hex(size_t n) {
  std::string bytes(n, '\0');
  fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(bytes.data()), n));
  return to_hex(bytes);
}

void SystemRandom::fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::abort();  // no entropy source: nothing secure can be done
    }
    done += static_cast<size_t>(n);
  }
}

SystemRandom& SystemRandom::instance() {
  static SystemRandom random;
  return random;
}

}  // namespace poplar
