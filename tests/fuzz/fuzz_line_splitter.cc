// Fuzzes the command-line framing and the strict number parser with arbitrary bytes: the
// splitter must never hold more than its limit per partial line, never crash, and give the same
// lines however the input is cut.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/line_splitter.h"
#include "base/strict_number.h"

namespace {

std::vector<std::string> split(std::string_view input, size_t piece) {
  poplar::LineSplitter splitter(255);
  std::vector<std::string> lines;
  for (size_t i = 0; i < input.size(); i += piece) {
    splitter.append(input.substr(i, piece));
    for (;;) {
      auto next = splitter.next();
      if (next.kind == poplar::LineSplitter::Kind::kNeedMore) {
        break;
      }
      if (next.kind == poplar::LineSplitter::Kind::kLine) {
        if (next.line.size() > 254) {
          std::abort();
        }
        (void)poplar::parse_u32(next.line);
        lines.emplace_back(next.line);
      } else {
        lines.emplace_back("\x01TOO-LONG");
      }
    }
    if (splitter.buffered() > 255 + piece) {
      std::abort();
    }
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto whole = split(input, input.size() + 1);
  if (split(input, 1) != whole || split(input, 7) != whole) {
    std::abort();
  }
  return 0;
}
