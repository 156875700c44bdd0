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

TEST(MaildirFileNameTest, DeliveryTimeIsTheLeadingNumberInMicroseconds) {
  EXPECT_EQ(delivery_time_us("1700000000.M1P2Q3.host"), 1700000000'000001u);
  EXPECT_EQ(delivery_time_us("1700000000.M999999P2Q3.host"), 1700000000'999999u);
  EXPECT_EQ(delivery_time_us("1700000000.P2Q3.host"), 1700000000'000000u);        // no M field
  EXPECT_EQ(delivery_time_us("1700000000.M1234567P2.host"), 1700000000'000000u);  // 7 digits
  EXPECT_EQ(delivery_time_us("1700000000.MP2.host"), 1700000000'000000u);
  EXPECT_EQ(delivery_time_us("1700000000.M42"), 1700000000'000042u);     // digits to the end
  EXPECT_EQ(delivery_time_us("1700000000M5.host"), 1700000000'000000u);  // no dot
  EXPECT_EQ(delivery_time_us("42"), 42'000000u);
  EXPECT_EQ(delivery_time_us("host.1700000000"), 0u);
  EXPECT_EQ(delivery_time_us(".M5"), 5u);  // no seconds (0), then microseconds
  EXPECT_EQ(delivery_time_us(""), 0u);
  EXPECT_EQ(delivery_time_us("999999999999999999999999.x"), 0u);
  EXPECT_EQ(delivery_time_us("18446744073709551615.x"), UINT64_MAX);
  EXPECT_EQ(delivery_time_us("18446744073710.M1"), UINT64_MAX);  // too large in microseconds
  EXPECT_EQ(delivery_time_us("18446744073708.M551615"), 18446744073708'551615u);
  EXPECT_EQ(delivery_time_us("18446744073709551616.x"), 0u);
  EXPECT_EQ(delivery_time_us("00000000000000000001.x"), 1'000000u);  // 20 digits
  EXPECT_EQ(delivery_time_us("000000000000000000001.x"), 0u);        // 21 digits: too many
}

// Two deliveries in one second keep their order although "M40000" sorts before "M5000" bytewise
// (a flaky test once saw a MOVE and a later COPY listed the other way round).
TEST(MaildirFileNameTest, MicrosecondsOrderDeliveriesWithinOneSecond) {
  EXPECT_LT(delivery_time_us("1700000000.M5000P1Q1.host"),
            delivery_time_us("1700000000.M40000P1C2.host"));
  EXPECT_LT(delivery_time_us("1700000000.M999999P1Q1.host"),
            delivery_time_us("1700000001.M0P1Q2.host"));
}

TEST(MaildirFileNameTest, DeliveryTimeSecondsAgreeWithTheStrictNumberRule) {
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
    // No ".M" field can occur in this alphabet: the seconds alone, in microseconds.
    uint64_t seconds = digits == 0 ? 0 : parse_u64(name.substr(0, digits)).value_or(0);
    uint64_t expected = seconds > UINT64_MAX / 1'000'000 ? UINT64_MAX : seconds * 1'000'000;
    EXPECT_EQ(delivery_time_us(name), expected) << name;
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
