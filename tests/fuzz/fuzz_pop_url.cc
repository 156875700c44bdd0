// Fuzzes the POP URL parser (fetch/pop_url.h): no input may crash it, and every URL it accepts
// must survive the trip through its canonical form: parse(to_string(u)) succeeds, equals u, and
// prints the same canonical text again. Aborts otherwise.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fetch/pop_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(bytes), size);
  auto url = poplar::fetch::parse_pop_url(text);
  if (!url.is_ok()) {
    if (url.status().message().empty()) {
      std::abort();  // every refusal says why
    }
    return 0;
  }
  std::string canonical = poplar::fetch::to_string(*url);
  auto again = poplar::fetch::parse_pop_url(canonical);
  if (!again.is_ok() || !(*again == *url) || poplar::fetch::to_string(*again) != canonical) {
    std::abort();
  }
  if (url->port == 0 || url->host.empty()) {
    std::abort();
  }
  return 0;
}
