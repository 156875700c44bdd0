// The CRLF ("wire") size of a stored message: the exact number of octets a POP3 client receives
// for it after un-stuffing (RFC 1939 §11), whatever line ends the store uses. Every backend
// computes MessageInfo::size_octets with this one function, and the rule is the one the pop3
// dot-stuffer applies when it sends the message:
//   - an LF not preceded by CR (a bare LF) counts 2 octets: it is sent as CRLF;
//   - a CRLF counts 2 octets, as stored;
//   - a CR not followed by LF (a bare CR) counts 1 octet: it is not a line end and is sent as is;
//   - every other octet counts 1;
//   - a non-empty message that does not end with LF gets 2 more: a CRLF is appended before the
//     terminating "." (RFC 1939 §11, like Dovecot);
//   - an empty message is 0 octets.
// Byte-stuffing dots are not counted (the client removes them). docs/formats/maildir.md holds
// the same definition.
//
// Must never: allocate, or depend on how the input is split into chunks.
//
// Thread-safety: CrlfSizeCounter is a value type; one object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string_view>

namespace poplar::store {

// Streaming form: feed the message in pieces of any size, then ask size_octets().
class CrlfSizeCounter {
 public:
  void update(std::string_view chunk);
  // The wire size of everything fed so far, as if it were the whole message.
  uint64_t size_octets() const;

 private:
  uint64_t stored_octets_ = 0;
  uint64_t bare_lf_count_ = 0;
  char last_ = '\0';  // the last octet fed; meaningful only when stored_octets_ > 0
};

// One-shot form for a message held in memory.
uint64_t crlf_size_octets(std::string_view message);

}  // namespace poplar::store
