// Tests of HeaderBlock: which fields are kept, unfolding, the first occurrence winning, and the
// field size limit. Single-threaded.
#include "mime/header_block.h"

#include <gtest/gtest.h>

namespace poplar::mime {
namespace {

TEST(HeaderBlockTest, KeepsTheContentFieldsUnfolded) {
  HeaderBlock block(100);
  for (std::string_view line : {"Subject: x", "content-TYPE : text/plain;", "\tcharset=utf-8",
                                "Content-Disposition: inline", "Content-Transfer-Encoding: 7bit"}) {
    ASSERT_TRUE(block.add_line(line, true).is_ok());
  }
  EXPECT_EQ(block.fields().content_type, " text/plain;\tcharset=utf-8");
  EXPECT_EQ(block.fields().content_disposition, " inline");
  EXPECT_EQ(block.fields().content_transfer_encoding, " 7bit");
}

TEST(HeaderBlockTest, FirstOccurrenceCountsAndOthersAreNotContinued) {
  HeaderBlock block(100);
  for (std::string_view line :
       {"Content-Type: text/plain", "Content-Type: text/html", " ; more", "X-Other: y", " z"}) {
    ASSERT_TRUE(block.add_line(line, true).is_ok());
  }
  EXPECT_EQ(block.fields().content_type, " text/plain");
}

TEST(HeaderBlockTest, FieldStart) {
  EXPECT_TRUE(HeaderBlock::is_field_start("Subject: x"));
  EXPECT_TRUE(HeaderBlock::is_field_start("Subject : x"));
  EXPECT_FALSE(HeaderBlock::is_field_start("not a header"));
  EXPECT_FALSE(HeaderBlock::is_field_start("two words: x"));
  EXPECT_FALSE(HeaderBlock::is_field_start(": x"));
  EXPECT_FALSE(HeaderBlock::is_field_start(" folded: x"));
}

TEST(HeaderBlockTest, KeptFieldOverTheLimitIsKLimit) {
  HeaderBlock block(10);
  ASSERT_TRUE(block.add_line("Content-Type: a/b", true).is_ok());
  EXPECT_EQ(block.add_line(" ;name=0123456789", true).code(), ErrorCode::kLimit);
  HeaderBlock partial(100);
  EXPECT_EQ(partial.add_line("Content-Type: a/b; name=", false).code(), ErrorCode::kLimit);
  EXPECT_TRUE(partial.add_line("X-Long: only the head", false).is_ok());
}

}  // namespace
}  // namespace poplar::mime
