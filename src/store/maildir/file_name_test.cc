// Tests of Maildir file-name parsing: base name, ",W=" field, delivery time, dot-files.
// Must never: touch the file system. Single-threaded.
#include "store/maildir/file_name.h"

#include <gtest/gtest.h>

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
}

TEST(MaildirFileNameTest, DotFilesAreNotMessages) {
  EXPECT_TRUE(is_ignored_name(".hidden"));
  EXPECT_TRUE(is_ignored_name("."));
  EXPECT_TRUE(is_ignored_name(""));
  EXPECT_FALSE(is_ignored_name("1700000000.M1P2Q3.host"));
}

}  // namespace
}  // namespace poplar::store::maildir
