// Fuzzes the loader of fetch state files (fetch/fetch_state.h): arbitrary bytes must give a
// Status or a map of valid entries, never a crash. Each input is parsed under a fixed account
// key (so most headers mismatch) and, when it has a header, under the key it names (so the
// UIDL lines are reached). Every UIDL loaded must have the RFC 1939 §7 syntax and a time >= 0.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fetch/fetch_state.h"
#include "store/uidl_syntax.h"

namespace {

void parse_and_check(std::string_view text, std::string_view key) {
  std::unordered_map<std::string, int64_t> entries;
  poplar::Status status = poplar::fetch::FetchState::parse(text, key, "fuzz.state", entries);
  if (!status.is_ok()) {
    if (status.message().empty()) {
      std::abort();
    }
    return;
  }
  for (const auto& [uidl, time] : entries) {
    if (!poplar::store::is_valid_uidl(uidl) || time < 0) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(bytes), size);
  parse_and_check(text, "pop://fuzz@example.org");
  constexpr std::string_view kHeader = "poplar-fetch-state 1 ";
  if (text.starts_with(kHeader)) {
    std::string_view rest = text.substr(kHeader.size());
    parse_and_check(text, rest.substr(0, rest.find('\n')));
  }
  return 0;
}
