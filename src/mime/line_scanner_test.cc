// Tests of LineScanner: offsets, line ends, bounded heads and bare-LF counts, the same at every
// split of the input. Single-threaded.
#include "mime/line_scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/trickle.h"

namespace poplar::mime {
namespace {

struct Seen {
  uint64_t offset, length, content_length;
  int eol;
  uint64_t bare_before;
  std::string head;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> scan(const std::vector<std::string_view>& pieces, size_t max_head) {
  LineScanner scanner(max_head);
  std::vector<Seen> out;
  auto sink = [&](const Line& l) {
    out.push_back({l.offset, l.length, l.content_length, l.eol_octets, l.bare_lf_before,
                   std::string(l.head)});
    return Status::ok();
  };
  for (std::string_view p : pieces) {
    EXPECT_TRUE(scanner.feed(p, sink).is_ok());
  }
  EXPECT_TRUE(scanner.finish(sink).is_ok());
  return out;
}

TEST(LineScannerTest, ReportsOffsetsLineEndsAndBareLfCounts) {
  std::vector<Seen> lines = scan({"ab\r\ncd\n\nlong line\rx"}, 4);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], (Seen{0, 4, 2, 2, 0, "ab"}));
  EXPECT_EQ(lines[1], (Seen{4, 3, 2, 1, 0, "cd"}));
  EXPECT_EQ(lines[2], (Seen{7, 1, 0, 1, 1, ""}));
  EXPECT_EQ(lines[3], (Seen{8, 11, 11, 0, 2, "long"}));  // no line end; bare CR is content
}

TEST(LineScannerTest, SameLinesAtEverySplitAndBytewise) {
  const std::string input = "first\r\n--boundary  \r\n\nx\r\r\nlast line without end\r";
  std::vector<Seen> whole = scan({input}, 8);
  for (const auto& split : testing::all_two_way_splits(input)) {
    EXPECT_EQ(scan(split, 8), whole);
  }
  std::vector<std::string_view> bytes;
  testing::feed_bytewise(input, [&](std::string_view b) { bytes.push_back(b); });
  EXPECT_EQ(scan(bytes, 8), whole);
}

TEST(LineScannerTest, AHugeLineCostsOnlyItsHead) {
  LineScanner scanner(16);
  std::string block(1 << 20, 'A');
  size_t lines = 0;
  auto sink = [&](const Line& l) {
    ++lines;
    EXPECT_EQ(l.head.size(), 16u);
    EXPECT_EQ(l.content_length, 8u << 20);
    return Status::ok();
  };
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(scanner.feed(block, sink).is_ok());
  }
  ASSERT_TRUE(scanner.feed("\n", sink).is_ok());
  EXPECT_EQ(lines, 1u);
  EXPECT_TRUE(scanner.ends_with_lf());
  EXPECT_EQ(scanner.octets(), (8u << 20) + 1);
}

TEST(LineScannerTest, ASinkErrorStopsTheScan) {
  LineScanner scanner(16);
  Status s = scanner.feed("a\nb\n", [](const Line&) { return Status::invalid_input("stop"); });
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace poplar::mime
