// Parsing of Maildir file names; see file_name.h.
//
// Must never: allocate or touch the file system.
//
// Thread-safety: pure functions.
#include "store/maildir/file_name.h"

#include "base/strict_number.h"
#include "store/maildir/octet_scan.h"

namespace poplar::store::maildir {

std::string_view base_name(std::string_view file_name) {
  size_t colon = file_name.find(':');
  return colon == std::string_view::npos ? file_name : file_name.substr(0, colon);
}

std::optional<uint64_t> wire_size_field(std::string_view base) {
  // Fields follow the unique part, each introduced by ','. The unique part itself may contain
  // commas in odd deliveries, so look at every ",W=" and take the first well-formed one.
  size_t pos = 0;
  while ((pos = base.find(",W=", pos)) != std::string_view::npos) {
    std::string_view rest = base.substr(pos + 3);
    size_t end = rest.find(',');
    std::string_view digits = end == std::string_view::npos ? rest : rest.substr(0, end);
    if (std::optional<uint64_t> value = parse_u64(digits)) {
      return value;
    }
    pos += 3;
  }
  return std::nullopt;
}

uint64_t delivery_time_us(std::string_view base) {
  // The rule of parse_u64 (1-20 digits, no overflow), inline: this runs for every message at
  // every login. Names start with 10 digits (seconds since 1970), so the first 8 are taken in
  // one step when they are all digits.
  constexpr size_t kMaxDigits = 20;
  uint64_t value = 0;
  size_t n = 0;
  if (base.size() >= 8) {
    uint64_t word = load_le64(base.data());
    uint64_t digits = word - kOctetOnes * '0';
    // Every octet a digit: none was below '0' (no borrow set a high bit) and none above '9'.
    if (((digits | (digits + kOctetOnes * (0x7f - 9))) & kOctetHighBits) == 0) {
      // Pairs, then quads, then all eight (octet 0 is the most significant digit).
      digits = digits * 10 + (digits >> 8);
      digits = (((digits & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
                (((digits >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
               32;
      value = digits;
      n = 8;
    }
  }
  for (; n < base.size(); ++n) {
    auto digit = static_cast<uint64_t>(static_cast<unsigned char>(base[n]) - '0');
    if (digit > 9) {
      break;
    }
    if (n == kMaxDigits || value > (UINT64_MAX - digit) / 10) {
      return 0;  // does not fit: treated like no time at all
    }
    value = value * 10 + digit;
  }
  // Microseconds from a ".M<usec>" field right after the seconds (maildir_writer.cc and
  // Dovecot write it). Without them, two messages delivered in one second would be ordered by
  // their names' bytes, and "M40000" sorts before "M5000".
  uint64_t usecs = 0;
  if (n + 2 < base.size() && base[n] == '.' && base[n + 1] == 'M') {
    size_t k = n + 2;
    for (; k < base.size() && k < n + 2 + 6; ++k) {
      auto digit = static_cast<uint64_t>(static_cast<unsigned char>(base[k]) - '0');
      if (digit > 9) {
        break;
      }
      usecs = usecs * 10 + digit;
    }
    const bool digit_follows = k < base.size() && base[k] >= '0' && base[k] <= '9';
    if (k == n + 2 || digit_follows) {
      usecs = 0;  // no digits, or more than 6: not a microsecond field
    }
  }
  constexpr uint64_t kMicros = 1'000'000;
  if (value > (UINT64_MAX - usecs) / kMicros) {
    return UINT64_MAX;  // absurd seconds: after every real time, ordered by name among them
  }
  return value * kMicros + usecs;
}

bool is_ignored_name(std::string_view file_name) {
  return file_name.empty() || file_name.front() == '.';
}

}  // namespace poplar::store::maildir
