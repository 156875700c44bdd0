// Tests of ASCII case folding: only a-z change, UTF-8 and other octets pass through.
#include "base/ascii.h"

#include <gtest/gtest.h>

namespace poplar {
namespace {

TEST(AsciiTest, UpperChangesOnlyAsciiLetters) {
  EXPECT_EQ(ascii_upper("scram-sha-256-plus"), "SCRAM-SHA-256-PLUS");
  EXPECT_EQ(ascii_upper("Ärger {plain} z"), "ÄRGER {PLAIN} Z");
  EXPECT_EQ(ascii_upper(std::string("a\0b", 3)), std::string("A\0B", 3));
  EXPECT_EQ(ascii_upper(""), "");
}

TEST(AsciiTest, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(ascii_iequals("Cram-MD5", "CRAM-md5"));
  EXPECT_FALSE(ascii_iequals("PLAIN", "PLAI"));
  EXPECT_FALSE(ascii_iequals("ä", "Ä"));  // not ASCII: compared as octets
  EXPECT_TRUE(ascii_iequals("", ""));
}

}  // namespace
}  // namespace poplar
