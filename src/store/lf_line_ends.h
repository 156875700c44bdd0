// CrlfToLf: streaming conversion of a message's wire line ends (CRLF) to the LF line ends of
// local mail stores. A CR directly followed by LF is dropped; every other octet, a bare CR
// included, is kept. A CR at the end of one chunk is held until the next chunk (or finish())
// shows whether an LF follows. The stored-size counter counts what came out, so a writer can
// name the stored size (Maildir ",S=") without asking the file system.
//
// Must never: depend on how the input is cut into chunks, allocate beyond the output string's
// growth, or drop any octet other than the CR of a CRLF.
//
// Thread-safety: a value type; one object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace poplar::store {

class CrlfToLf {
 public:
  // Appends the converted form of chunk to *out.
  void convert(std::string_view chunk, std::string* out);
  // Ends the message: appends a CR still held back (a bare CR at the very end).
  void finish(std::string* out);

  uint64_t input_octets() const { return input_octets_; }
  uint64_t output_octets() const { return output_octets_; }

 private:
  bool pending_cr_ = false;
  uint64_t input_octets_ = 0;
  uint64_t output_octets_ = 0;
};

}  // namespace poplar::store
