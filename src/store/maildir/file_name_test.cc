// Tests of Maildir file-name parsing: base name, ",W=" field, delivery time, dot-files.
// Must never: touch the file system. Single-threaded.
#include "store/maildir/file_name.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/strict_number.h"

namespace poplar::store::maildir {
namespace {

TEST(MaildirFileNameTest, BaseNameIsThePartBeforeTheFirstColon) {
  EXPECT_EQ(base_name("1700000000.M1P2Q3.host:2,RS"), "1700000000.M1P2Q3.host");
  EXPECT_EQ(base_name("1700000000.M1P2Q3.host"), "1700000000.M1P2Q3.host");
  EXPECT_EQ(base_name("a:b:2,S"), "a");
  EXPECT_EQ(base_name(":2,S"), "");
}

TEST(MaildirFileNameTest, ReadsTheWireSizeField) {
  EXPECT_EQ(wire_size_field("1700000000.M1P2Q3.host,S=1200,W=1234"), 1234u);
  EXPECT_EQ(wire_size_field("1700000000.M1P2Q3.host,W=0"), 0u);
  EXPECT_EQ(wire_size_field("1700000000.M1P2Q3.host,W=77,S=70"), 77u);
  EXPECT_EQ(wire_size_field("1700000000.M1P2Q3.host,S=1200"), std::nullopt);
  EXPECT_EQ(wire_size_field("1700000000.M1P2Q3.host"), std::nullopt);
}

TEST(MaildirFileNameTest, IgnoresMalformedWireSizeFields) {
  EXPECT_EQ(wire_size_field("x,W="), std::nullopt);
  EXPECT_EQ(wire_size_field("x,W=-1"), std::nullopt);
  EXPECT_EQ(wire_size_field("x,W=12a"), std::nullopt);
  EXPECT_EQ(wire_size_field("x,W=99999999999999999999999"), std::nullopt);
  EXPECT_EQ(wire_size_field("x,W=bad,W=5"), 5u);
  EXPECT_EQ(wire_size_field("xW=5"), std::nullopt);
}

TEST(MaildirFileNameTest, DeliveryTimeIsTheLeadingNumber) {
  EXPECT_EQ(delivery_time("1700000000.M1P2Q3.host"), 1700000000u);
  EXPECT_EQ(delivery_time("42"), 42u);
  EXPECT_EQ(delivery_time("host.1700000000"), 0u);
  EXPECT_EQ(delivery_time(""), 0u);
  EXPECT_EQ(delivery_time("999999999999999999999999.x"), 0u);
  EXPECT_EQ(delivery_time("18446744073709551615.x"), UINT64_MAX);
  EXPECT_EQ(delivery_time("18446744073709551616.x"), 0u);
  EXPECT_EQ(delivery_time("00000000000000000001.x"), 1u);   // 20 digits
  EXPECT_EQ(delivery_time("000000000000000000001.x"), 0u);  // 21 digits: too many
}

TEST(MaildirFileNameTest, DeliveryTimeAgreesWithTheStrictNumberRule) {
  // Every length of digit run, every position of a non-digit, octets just outside '0'-'9'.
  std::mt19937 random(20);
  for (int round = 0; round < 20000; ++round) {
    std::string name;
    size_t length = random() % 24;
    for (size_t i = 0; i < length; ++i) {
      int pick = static_cast<int>(random() % 16);
      name += pick < 12 ? static_cast<char>('0' + pick % 10)
                        : "/:.\x7f"[pick - 12];  // '/' and ':' border the digits in ASCII
    }
    size_t digits = 0;
    while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') {
      ++digits;
    }
    uint64_t expected = digits == 0 ? 0 : parse_u64(name.substr(0, digits)).value_or(0);
    EXPECT_EQ(delivery_time(name), expected) << name;
  }
}

TEST(MaildirFileNameTest, DotFilesAreNotMessages) {
  EXPECT_TRUE(is_ignored_name(".hidden"));
  EXPECT_TRUE(is_ignored_name("."));
  EXPECT_TRUE(is_ignored_name(""));
  EXPECT_FALSE(is_ignored_name("1700000000.M1P2Q3.host"));
}

}  // namespace
}  // namespace poplar::store::maildir
