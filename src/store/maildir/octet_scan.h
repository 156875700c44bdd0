// Octet tests eight at a time ("SWAR": the classic has-zero-byte family on 64-bit words), for
// the loops that run over every name of a 100,000-message maildrop at each login: checking
// an index line, checking a base name is a UIDL. Each any_*() is non-zero exactly when at
// least one octet of the word qualifies, and its lowest set bit marks the first such octet
// (higher bits may be false positives after a true one).
//
// Must never: read outside the range it is given.
//
// Thread-safety: pure functions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace poplar::store::maildir {

inline constexpr uint64_t kOctetOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kOctetHighBits = 0x8080808080808080ULL;

// Eight octets at p as a little-endian number (octet 0 in the low bits), whatever the host.
inline uint64_t load_le64(const char* p) {
  uint64_t word = 0;
  std::memcpy(&word, p, 8);
  if constexpr (std::endian::native == std::endian::big) {
    word = __builtin_bswap64(word);
  }
  return word;
}

inline uint64_t any_zero(uint64_t x) { return (x - kOctetOnes) & ~x & kOctetHighBits; }
inline uint64_t any_equal(uint64_t x, char c) {
  return any_zero(x ^ (kOctetOnes * static_cast<unsigned char>(c)));
}
inline uint64_t any_below_0x21(uint64_t x) { return (x - kOctetOnes * 0x21) & ~x & kOctetHighBits; }
inline uint64_t any_above_0x7e(uint64_t x) { return ((x + kOctetOnes) | x) & kOctetHighBits; }

// The index of the octet a non-zero any_*() result marks first.
inline unsigned first_octet(uint64_t mask) {
  return static_cast<unsigned>(std::countr_zero(mask)) / 8;
}

// True when every octet of `text` is in 0x21–0x7E (visible ASCII, no space).
inline bool all_visible_ascii(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  uint64_t bad = 0;
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w = load_le64(p + i);
      bad |= any_below_0x21(w) | any_above_0x7e(w);
    }
    if (i < n) {  // the last eight octets again: the test is idempotent
      uint64_t w = load_le64(p + n - 8);
      bad |= any_below_0x21(w) | any_above_0x7e(w);
    }
    return bad == 0;
  }
  for (size_t i = 0; i < n; ++i) {
    auto u = static_cast<unsigned char>(p[i]);
    bad |= static_cast<uint64_t>(u < 0x21 || u > 0x7e);
  }
  return bad == 0;
}

}  // namespace poplar::store::maildir
