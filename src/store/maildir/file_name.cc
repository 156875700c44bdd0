// Parsing of Maildir file names; see file_name.h.
//
// Must never: allocate or touch the file system.
//
// Thread-safety: pure functions.
#include "store/maildir/file_name.h"

#include "base/strict_number.h"

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

uint64_t delivery_time(std::string_view base) {
  size_t n = 0;
  while (n < base.size() && base[n] >= '0' && base[n] <= '9') {
    ++n;
  }
  if (n == 0) {
    return 0;
  }
  return parse_u64(base.substr(0, n)).value_or(0);
}

bool is_ignored_name(std::string_view file_name) {
  return file_name.empty() || file_name.front() == '.';
}

}  // namespace poplar::store::maildir
