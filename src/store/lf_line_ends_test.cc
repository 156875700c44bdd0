// Tests of the streaming CRLF → LF conversion: byte-exact output for LF, CRLF, mixed and bare-CR
// input, whether fed whole, byte by byte, split at every offset or in random chunks.
// Must never: depend on anything but the converter. Single-threaded.
#include "store/lf_line_ends.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "testing/trickle.h"

namespace poplar::store {
namespace {

std::string convert_whole(std::string_view in) {
  CrlfToLf converter;
  std::string out;
  converter.convert(in, &out);
  converter.finish(&out);
  return out;
}

struct Case {
  std::string_view wire;
  std::string_view stored;
};

constexpr Case kCases[] = {
    {"", ""},
    {"a\r\nb\r\n", "a\nb\n"},
    {"a\nb\n", "a\nb\n"},            // LF already: unchanged
    {"a\r\nb\nc\r\n", "a\nb\nc\n"},  // mixed
    {"a\rb\r\n", "a\rb\n"},          // a bare CR is kept
    {"abc\r", "abc\r"},              // a CR at the very end is kept
    {"\r\r\n", "\r\n"},              // CR, then CRLF
    {"\r\n\r\n", "\n\n"},
    {"\r", "\r"},
    {"no line end", "no line end"},
    {"x\r\r\r\ny", "x\r\r\ny"},
    {"\n\r\n\r", "\n\n\r"},
};

TEST(CrlfToLfTest, ConvertsCrlfAndKeepsEverythingElse) {
  for (const Case& c : kCases) {
    EXPECT_EQ(convert_whole(c.wire), c.stored) << c.wire;
  }
}

TEST(CrlfToLfTest, SameResultFedByteByByteAndSplitAtEveryOffset) {
  for (const Case& c : kCases) {
    CrlfToLf bytewise;
    std::string out;
    testing::feed_bytewise(c.wire, [&](std::string_view piece) { bytewise.convert(piece, &out); });
    bytewise.finish(&out);
    EXPECT_EQ(out, c.stored) << c.wire;
    EXPECT_EQ(bytewise.input_octets(), c.wire.size());
    EXPECT_EQ(bytewise.output_octets(), c.stored.size());
    for (const auto& split : testing::all_two_way_splits(c.wire)) {
      CrlfToLf converter;
      std::string split_out;
      for (std::string_view piece : split) {
        converter.convert(piece, &split_out);
      }
      converter.finish(&split_out);
      EXPECT_EQ(split_out, c.stored) << c.wire;
    }
  }
}

TEST(CrlfToLfTest, RandomChunksOfRandomTextMatchTheWholeConversion) {
  std::mt19937 random(20261127);
  const char alphabet[] = {'\r', '\n', 'a', 'F', ' ', '>'};
  for (int round = 0; round < 200; ++round) {
    std::string wire(random() % 300, ' ');
    for (char& c : wire) {
      c = alphabet[random() % sizeof alphabet];
    }
    std::string expected;
    for (size_t i = 0; i < wire.size(); ++i) {
      if (!(wire[i] == '\r' && i + 1 < wire.size() && wire[i + 1] == '\n')) {
        expected += wire[i];
      }
    }
    CrlfToLf converter;
    std::string out;
    size_t pos = 0;
    while (pos < wire.size()) {
      size_t n = std::min<size_t>(random() % 9, wire.size() - pos);
      converter.convert(std::string_view(wire).substr(pos, n), &out);
      pos += n;
    }
    converter.finish(&out);
    ASSERT_EQ(out, expected) << round;
    EXPECT_EQ(converter.output_octets(), expected.size());
  }
}

}  // namespace
}  // namespace poplar::store
