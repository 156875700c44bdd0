// Tests for SASLprep (RFC 4013 §3 examples) and the UTF-8 check.
#include "sasl/saslprep.h"

#include <gtest/gtest.h>

namespace poplar::sasl {
namespace {

std::string prep(std::string_view in, bool allow_unassigned = false) {
  Result<std::string> r = saslprep(in, allow_unassigned);
  return r ? *r : std::string("<error>");
}

TEST(SaslPrep, Rfc4013Examples) {
  EXPECT_EQ(prep("I\xc2\xadX"), "IX");    // SOFT HYPHEN mapped to nothing
  EXPECT_EQ(prep("user"), "user");        // no transformation
  EXPECT_EQ(prep("USER"), "USER");        // case preserved
  EXPECT_EQ(prep("\xc2\xaa"), "a");       // output is NFKC
  EXPECT_EQ(prep("\xe2\x85\xa8"), "IX");  // ROMAN NUMERAL NINE, NFKC
  EXPECT_EQ(prep("\x07"), "<error>");     // prohibited character
  EXPECT_EQ(prep("\xd8\xa7"
                 "1"),
            "<error>");  // bidi check
}

TEST(SaslPrep, NonAsciiSpaceBecomesSpace) {
  EXPECT_EQ(prep("a\xc2\xa0"
                 "b"),
            "a b");
}

TEST(SaslPrep, RejectsNulAndBadUtf8) {
  EXPECT_FALSE(saslprep(std::string_view("a\0b", 3)));
  EXPECT_FALSE(saslprep("\xff"));
  EXPECT_FALSE(saslprep("\xc3"));
}

TEST(SaslPrep, UnassignedOnlyForQueries) {
  // U+0221 was unassigned in Unicode 3.2, the version stringprep uses.
  EXPECT_FALSE(saslprep("\xc8\xa1", false));
  EXPECT_TRUE(saslprep("\xc8\xa1", true));
}

TEST(Utf8, AcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9"));
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8, RejectsMalformed) {
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3(a"));
}

}  // namespace
}  // namespace poplar::sasl
