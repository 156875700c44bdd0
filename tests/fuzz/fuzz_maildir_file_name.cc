// Fuzzes the Maildir file-name readers (store/maildir/file_name.h) with arbitrary names: a
// Maildir's new/ and cur/ can be filled by anybody with write access to it. Aborts when:
//  - base_name() is not the name up to its first ':';
//  - wire_size_field() finds a size where the base name has no ",W=" followed by those digits;
//  - delivery_time_us() (a fast path reads eight digits at once) differs from the rule written
//    out plainly here: up to 20 leading digits are the seconds (more, or an overflow: the
//    whole time is 0), a
//    ".M" with 1-6 digits not followed by another digit right after them the microseconds,
//    seconds too large for microseconds UINT64_MAX;
//  - is_ignored_name() is not "empty or starts with '.'".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "base/strict_number.h"
#include "store/maildir/file_name.h"

namespace {

namespace maildir = poplar::store::maildir;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_maildir_file_name: %s\n", what);
  std::abort();
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

uint64_t plain_delivery_time_us(std::string_view base) {
  size_t n = 0;
  while (n < base.size() && is_digit(base[n])) {
    ++n;
  }
  uint64_t seconds = 0;
  if (n > 0) {
    std::optional<uint64_t> parsed = poplar::parse_u64(base.substr(0, n));
    if (!parsed) {
      return 0;  // parse_u64 takes 1-20 digits without overflow; beyond that, no time at all
    }
    seconds = *parsed;
  }
  uint64_t micros = 0;
  if (base.substr(n).starts_with(".M")) {
    size_t k = n + 2;
    while (k < base.size() && is_digit(base[k])) {
      ++k;
    }
    const size_t digits = k - (n + 2);
    if (digits >= 1 && digits <= 6) {
      micros = poplar::parse_u64(base.substr(n + 2, digits)).value_or(0);
    }
  }
  if (seconds > (UINT64_MAX - micros) / 1'000'000) {
    return UINT64_MAX;
  }
  return seconds * 1'000'000 + micros;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  const std::string_view base = maildir::base_name(name);
  if (base != name.substr(0, name.find(':'))) {
    fail("base_name is not the name up to its first ':'");
  }
  if (std::optional<uint64_t> size_field = maildir::wire_size_field(base)) {
    bool found = false;
    for (size_t pos = base.find(",W="); pos != std::string_view::npos;
         pos = base.find(",W=", pos + 1)) {
      std::string_view rest = base.substr(pos + 3);
      std::string_view digits = rest.substr(0, rest.find(','));
      found |= poplar::parse_u64(digits) == size_field;
    }
    if (!found) {
      fail("a ,W= size that is not in the name");
    }
  }
  if (maildir::delivery_time_us(base) != plain_delivery_time_us(base)) {
    fail("delivery_time_us differs from the plain rule");
  }
  if (maildir::is_ignored_name(name) != (name.empty() || name.front() == '.')) {
    fail("is_ignored_name is not 'empty or a dot-file'");
  }
  return 0;
}
