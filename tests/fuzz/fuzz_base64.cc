// Fuzzes strict base64: decoding arbitrary bytes never crashes, whatever decodes re-encodes to
// exactly the same text (one spelling per byte string, RFC 4648 §3.5), and every byte string
// survives encode then decode.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::optional<std::string> decoded = poplar::base64_decode(input);
  if (decoded && poplar::base64_encode(*decoded) != input) {
    std::abort();
  }
  std::optional<std::string> round = poplar::base64_decode(poplar::base64_encode(input));
  if (!round || *round != input) {
    std::abort();
  }
  return 0;
}
