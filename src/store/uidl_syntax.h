// The syntax every backend's UIDLs must have (RFC 1939 §7): 1–70 characters, each in
// 0x21–0x7E. Shared by the backends and their tests.
//
// Must never: allocate.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace poplar::store {

// RFC 1939 §7: a unique-id is at most 70 characters.
inline constexpr size_t kMaxUidlLength = 70;

constexpr bool is_valid_uidl(std::string_view uidl) {
  if (uidl.empty() || uidl.size() > kMaxUidlLength) {
    return false;
  }
  for (char c : uidl) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) {
      return false;
    }
  }
  return true;
}

}  // namespace poplar::store
