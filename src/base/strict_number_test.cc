#include "base/strict_number.h"

#include <gtest/gtest.h>

namespace poplar {
namespace {

TEST(StrictNumberTest, AcceptsPlainDigits) {
  EXPECT_EQ(parse_u32("0"), 0u);
  EXPECT_EQ(parse_u32("42"), 42u);
  EXPECT_EQ(parse_u32("4294967295"), 4294967295u);
  EXPECT_EQ(parse_u64("18446744073709551615"), 18446744073709551615ull);
}

TEST(StrictNumberTest, RefusesWrapAround) {
  EXPECT_FALSE(parse_u32("4294967296"));
  EXPECT_FALSE(parse_u32("4294967297"));
  EXPECT_FALSE(parse_u64("18446744073709551616"));
  EXPECT_FALSE(parse_u64("99999999999999999999"));
}

TEST(StrictNumberTest, RefusesSignsSpacesAndJunk) {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0", "١"}) {
    EXPECT_FALSE(parse_u64(bad)) << bad;
  }
}

}  // namespace
}  // namespace poplar
