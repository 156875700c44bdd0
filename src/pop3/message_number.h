// Strong types for the two ways of naming a message: the 1-based number a POP3 client sends
// and sees (RFC 1939 §4: "1..n"), and the 0-based index into store::Maildrop::messages().
// Mixing them up is an off-by-one that deletes the wrong mail, so they never convert
// implicitly. Pure values, no I/O.
//
// Thread-safety: value types.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>

namespace poplar::pop3 {

// 1-based, as on the wire. Built only by the command parser, which rejects 0 (RFC 1939 §4).
struct MessageNumber {
  uint32_t value = 1;
  auto operator<=>(const MessageNumber&) const = default;
};

// 0-based position in the maildrop snapshot.
struct MessageIndex {
  size_t value = 0;
  auto operator<=>(const MessageIndex&) const = default;
};

// REQUIRES: number.value >= 1 (guaranteed by the parser).
inline MessageIndex to_index(MessageNumber number) {
  return MessageIndex{static_cast<size_t>(number.value) - 1};
}

// REQUIRES: index.value < 2^32 - 1 (a maildrop never numbers more messages than that).
inline MessageNumber to_number(MessageIndex index) {
  return MessageNumber{static_cast<uint32_t>(index.value + 1)};
}

}  // namespace poplar::pop3
