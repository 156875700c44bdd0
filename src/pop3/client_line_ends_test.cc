// Tests for LineEndNormalizer: bare LF becomes CRLF, CRLF and bare CR pass unchanged, a "."
// line ended by a bare LF is data (stuffed) unless lenient (SPEC PR-C-6), at every split.
#include "pop3/client_line_ends.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/transcript.h"
#include "testing/trickle.h"

namespace poplar::pop3 {
namespace {

std::string normalize_whole(std::string_view in, bool lenient = false) {
  LineEndNormalizer n(lenient);
  std::string out;
  n.normalize(in, out);
  return out;
}

// The same result whole, byte by byte and cut at every offset.
void expect_normalized(std::string_view in, std::string_view want, bool lenient = false) {
  EXPECT_EQ(normalize_whole(in, lenient), want) << testing::escape_for_display(in);
  {
    LineEndNormalizer n(lenient);
    std::string out;
    testing::feed_bytewise(in, [&](std::string_view piece) { n.normalize(piece, out); });
    EXPECT_EQ(out, want) << "bytewise";
  }
  for (const auto& split : testing::all_two_way_splits(in)) {
    LineEndNormalizer n(lenient);
    std::string out;
    for (std::string_view piece : split) {
      n.normalize(piece, out);
    }
    EXPECT_EQ(out, want) << "split at " << split[0].size();
  }
}

TEST(LineEndNormalizer, CrlfPassesUnchanged) {
  expect_normalized("+OK hi\r\nline\r\n.\r\n", "+OK hi\r\nline\r\n.\r\n");
}

TEST(LineEndNormalizer, BareLfBecomesCrlf_PR_C_6) {
  expect_normalized("+OK hi\nline\n\nend\r\n", "+OK hi\r\nline\r\n\r\nend\r\n");
}

TEST(LineEndNormalizer, BareCrIsData) { expect_normalized("a\rb\r\n\r\r\n", "a\rb\r\n\r\r\n"); }

TEST(LineEndNormalizer, DotLineWithBareLfIsStuffedDataWhenStrict_PR_C_6) {
  expect_normalized("x\n.\n..y\n.\r\n", "x\r\n..\r\n..y\r\n.\r\n");
  expect_normalized(".\n", "..\r\n");
}

TEST(LineEndNormalizer, DotLineWithBareLfEndsTheBodyWhenLenient_PR_C_6) {
  expect_normalized("x\n.\n", "x\r\n.\r\n", /*lenient=*/true);
}

TEST(LineEndNormalizer, DotFollowedByMoreIsNotALoneDot) {
  expect_normalized(".a\n.\r\n", ".a\r\n.\r\n");
  expect_normalized(". \n", ". \r\n");
}

}  // namespace
}  // namespace poplar::pop3
