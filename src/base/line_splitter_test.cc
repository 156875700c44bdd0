#include "base/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/trickle.h"

namespace poplar {
namespace {

// Drains every complete line; too-long lines are recorded as "<TOO LONG>".
std::vector<std::string> drain(LineSplitter& s) {
  std::vector<std::string> out;
  for (;;) {
    auto n = s.next();
    if (n.kind == LineSplitter::Kind::kNeedMore) {
      return out;
    }
    out.push_back(n.kind == LineSplitter::Kind::kLine ? std::string(n.line) : "<TOO LONG>");
  }
}

std::vector<std::string> feed_pieces(const std::vector<std::string_view>& pieces, size_t max) {
  LineSplitter s(max);
  std::vector<std::string> out;
  for (auto p : pieces) {
    s.append(p);
    auto lines = drain(s);
    out.insert(out.end(), lines.begin(), lines.end());
  }
  return out;
}

TEST(LineSplitterTest, SplitsCrlfAndBareLf) {
  auto lines = feed_pieces({"USER bob\r\nPASS x y\nQUIT\r\n"}, 255);
  EXPECT_EQ(lines, (std::vector<std::string>{"USER bob", "PASS x y", "QUIT"}));
}

TEST(LineSplitterTest, KeepsIncompleteLineUntilItsEnd) {
  LineSplitter s(255);
  s.append("STA");
  EXPECT_EQ(s.next().kind, LineSplitter::Kind::kNeedMore);
  s.append("T\r");
  EXPECT_EQ(s.next().kind, LineSplitter::Kind::kNeedMore);
  s.append("\n");
  auto n = s.next();
  ASSERT_EQ(n.kind, LineSplitter::Kind::kLine);
  EXPECT_EQ(n.line, "STAT");
}

TEST(LineSplitterTest, SameLinesAtEverySplitAndBytewise) {
  const std::string input = "CAPA\r\nLIST 1\r\n\r\nRETR 2\nNOOP\r\n";
  const auto expected = feed_pieces({input}, 255);
  for (const auto& split : testing::all_two_way_splits(input)) {
    EXPECT_EQ(feed_pieces(split, 255), expected);
  }
  LineSplitter s(255);
  std::vector<std::string> bytewise;
  testing::feed_bytewise(input, [&](std::string_view b) {
    s.append(b);
    auto l = drain(s);
    bytewise.insert(bytewise.end(), l.begin(), l.end());
  });
  EXPECT_EQ(bytewise, expected);
}

TEST(LineSplitterTest, LineOfExactlyMaxOctetsIsAccepted) {
  std::string line(253, 'a');
  auto lines = feed_pieces({line + "\r\n"}, 255);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], line);
}

TEST(LineSplitterTest, LineOneOctetOverMaxIsTooLong) {
  std::string line(254, 'a');
  auto lines = feed_pieces({line + "\r\nNOOP\r\n"}, 255);
  EXPECT_EQ(lines, (std::vector<std::string>{"<TOO LONG>", "NOOP"}));
}

TEST(LineSplitterTest, HugeLineWithoutLfIsReportedOnceAndNotStored) {
  LineSplitter s(255);
  std::string chunk(65536, 'x');
  int too_long = 0;
  for (int i = 0; i < 160; ++i) {  // 10 MB
    s.append(chunk);
    for (auto l : drain(s)) {
      EXPECT_EQ(l, "<TOO LONG>");
      ++too_long;
    }
    EXPECT_LE(s.buffered(), 65536u + 255u);
  }
  EXPECT_EQ(too_long, 1);
  s.append("tail\r\nNOOP\r\n");
  EXPECT_EQ(drain(s), (std::vector<std::string>{"NOOP"}));
}

TEST(LineSplitterTest, ClearDropsPipelinedInput) {
  LineSplitter s(255);
  s.append("STLS\r\nUSER evil\r\n");
  auto n = s.next();
  ASSERT_EQ(n.line, "STLS");
  s.clear();
  EXPECT_EQ(s.next().kind, LineSplitter::Kind::kNeedMore);
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(LineSplitterTest, NulBytesArePassedThroughForTheCallerToReject) {
  auto lines = feed_pieces({std::string_view("NO\0OP\r\n", 7)}, 255);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), 5u);
}

}  // namespace
}  // namespace poplar
