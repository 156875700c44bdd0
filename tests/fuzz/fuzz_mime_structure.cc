// Fuzzes the MIME structure scan (src/mime/mime_structure.h) with arbitrary messages. The first
// input byte picks the piece size the message is fed in; the rest is the message. Aborts when:
//   - the result depends on how the message is cut;
//   - a scan ends in any error but kLimit, or lists no part at all;
//   - a section is malformed or repeated, or there are more parts than the limit allows;
//   - an extent lies outside the message, a header does not come before its body, or a wire
//     size differs from the CRLF rule applied to the sliced bytes;
//   - a type is not lower-case token/token, or a name holds a control character.
// Memory stays bounded by the limits (libFuzzer's -rss_limit_mb catches a leak or blow-up).
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mime/mime_structure.h"

namespace {

using poplar::ErrorCode;
using poplar::Result;
using poplar::mime::Extent;
using poplar::mime::Limits;
using poplar::mime::PartInfo;
using poplar::mime::StructureScanner;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

uint64_t wire_octets(std::string_view stored) {
  uint64_t n = 0;
  for (size_t i = 0; i < stored.size(); ++i) {
    n += stored[i] == '\n' && (i == 0 || stored[i - 1] != '\r') ? 2 : 1;
  }
  return n + (!stored.empty() && stored.back() != '\n' ? 2 : 0);
}

void check_extent(std::string_view message, const Extent& e) {
  check(e.offset <= message.size() && e.length <= message.size() - e.offset);
  check(e.wire_octets == wire_octets(message.substr(e.offset, e.length)));
}

bool valid_section(std::string_view s) {
  bool digit_expected = true;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit_expected = false;
    } else if (c == '.' && !digit_expected) {
      digit_expected = true;
    } else {
      return false;
    }
  }
  return !s.empty() && !digit_expected && s.front() != '0';
}

bool valid_type(std::string_view t) {
  size_t slash = t.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == t.size()) {
    return false;
  }
  for (size_t i = 0; i < t.size(); ++i) {
    auto c = static_cast<unsigned char>(t[i]);
    if (i != slash && (c <= 0x20 || c >= 0x7F || c == '/' || (c >= 'A' && c <= 'Z'))) {
      return false;
    }
  }
  return true;
}

Result<std::vector<PartInfo>> scan(std::string_view message, size_t piece, const Limits& limits) {
  StructureScanner scanner(limits);
  for (size_t i = 0; i < message.size(); i += piece) {
    if (poplar::Status s = scanner.feed(message.substr(i, piece)); !s.is_ok()) {
      return s;
    }
  }
  return scanner.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  size_t piece = data[0] % 64 + 1;
  std::string_view message(reinterpret_cast<const char*>(data) + 1, size - 1);
  Limits limits;
  limits.max_parts = 200;
  limits.max_depth = 12;
  limits.max_field_octets = 2048;

  Result<std::vector<PartInfo>> whole = scan(message, message.size() + 1, limits);
  Result<std::vector<PartInfo>> cut = scan(message, piece, limits);
  check(whole.is_ok() == cut.is_ok());
  if (!whole.is_ok()) {
    check(whole.status().code() == ErrorCode::kLimit);
    check(cut.status().code() == ErrorCode::kLimit);
    return 0;
  }
  check(*whole == *cut);
  const std::vector<PartInfo>& parts = *whole;
  check(!parts.empty() && parts.size() <= limits.max_parts);
  std::set<std::string> sections;
  for (const PartInfo& p : parts) {
    check(valid_section(p.section));
    check(sections.insert(p.section).second);
    check(valid_type(p.type));
    for (char c : p.name) {
      auto u = static_cast<unsigned char>(c);
      check(u >= 0x20 && u != 0x7F);
    }
    check_extent(message, p.header);
    check_extent(message, p.body);
    check(p.header.offset + p.header.length <= p.body.offset);
  }
  return 0;
}
