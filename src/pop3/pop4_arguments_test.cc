#include "pop3/pop4_arguments.h"

#include <gtest/gtest.h>

namespace poplar::pop3 {
namespace {

TEST(Pop4ArgumentsTest, AtomAndQuotedFolderNames) {
  Pop4Arguments args(R"(Archive "Sent Items" "a\"b\\c" "")", false);
  EXPECT_EQ(*args.folder(), "Archive");
  EXPECT_EQ(*args.folder(), "Sent Items");
  EXPECT_EQ(*args.folder(), "a\"b\\c");
  EXPECT_EQ(*args.folder(), "");
  EXPECT_TRUE(args.at_end());
  EXPECT_TRUE(args.finish().is_ok());
}

TEST(Pop4ArgumentsTest, BadFolderSyntax) {
  for (const char* text : {"", "\"open", "\"bad\\escape\"", "a*b", "50%", "\"x\"y", " lead"}) {
    Pop4Arguments args(text, false);
    EXPECT_FALSE(args.folder().is_ok()) << text;
  }
  Pop4Arguments two("a  b", false);
  ASSERT_TRUE(two.folder().is_ok());
  EXPECT_FALSE(two.folder().is_ok());  // two spaces
  Pop4Arguments missing("a", false);
  ASSERT_TRUE(missing.folder().is_ok());
  EXPECT_FALSE(missing.folder().is_ok());
}

TEST(Pop4ArgumentsTest, NonAsciiNeedsUtf8) {
  EXPECT_FALSE(Pop4Arguments("Entw\xc3\xbcrfe", false).folder().is_ok());
  EXPECT_FALSE(Pop4Arguments("\"Entw\xc3\xbcrfe\"", false).folder().is_ok());
  EXPECT_EQ(*Pop4Arguments("Entw\xc3\xbcrfe", true).folder(), "Entw\xc3\xbcrfe");
}

TEST(Pop4ArgumentsTest, MessageSets) {
  Pop4Arguments args("1,4:6,9 Archive", false);
  Result<MessageSet> set = args.message_set();
  ASSERT_TRUE(set.is_ok());
  ASSERT_EQ(set->ranges.size(), 3u);
  EXPECT_EQ(set->ranges[1].first.value, 4u);
  EXPECT_EQ(set->ranges[1].last.value, 6u);
  EXPECT_EQ(*args.folder(), "Archive");
  EXPECT_TRUE(args.finish().is_ok());
}

TEST(Pop4ArgumentsTest, BadMessageSets) {
  // POP4.md / issue 6 "Bad input": 5:2, 0, 1:99999999999 and shapes that are not sets.
  for (const char* text : {"5:2", "0", "1:99999999999", "4294967296", "1,", ",1", "1::2",
                           "1:", ":1", "a", "1,,2", "-1", "+1", "1:2:3", "1 "}) {
    Pop4Arguments args(text, false);
    Result<MessageSet> set = args.message_set();
    EXPECT_TRUE(!set.is_ok() || !args.finish().is_ok()) << text;
  }
  Pop4Arguments max("4294967295", false);
  EXPECT_TRUE(max.message_set().is_ok());
}

TEST(Pop4ArgumentsTest, FlagList) {
  Pop4Arguments args("Archive (\\Seen $Junk)", false);
  ASSERT_TRUE(args.folder().is_ok());
  Result<store::MessageFlags> flags = args.flag_list();
  ASSERT_TRUE(flags.is_ok());
  EXPECT_TRUE(flags->has(store::SystemFlag::kSeen));
  EXPECT_TRUE(flags->has_keyword("$Junk"));
  EXPECT_TRUE(args.finish().is_ok());
  for (const char* text : {"(\\Seen", "\\Seen)", "((\\Seen))", "(\\Recent)", "(a) b"}) {
    EXPECT_FALSE(Pop4Arguments(text, false).flag_list().is_ok()) << text;
  }
  EXPECT_TRUE(Pop4Arguments("()", false).flag_list().is_ok());
}

TEST(Pop4ArgumentsTest, QuoteFolderName) {
  EXPECT_EQ(quote_folder_name("Archive"), "Archive");
  EXPECT_EQ(quote_folder_name("Sent Items"), "\"Sent Items\"");
  EXPECT_EQ(quote_folder_name("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote_folder_name(""), "\"\"");
  EXPECT_EQ(quote_folder_name("50%"), "\"50%\"");
  // Round trip through the reader.
  for (std::string name : {"Sent Items", "a\"b\\c", "x*", "Work/2024"}) {
    EXPECT_EQ(*Pop4Arguments(quote_folder_name(name), true).folder(), name);
  }
}

}  // namespace
}  // namespace poplar::pop3
