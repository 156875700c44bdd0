// Tests of the Maildir info letters ↔ flags mapping (info_flags.h).
#include "store/maildir/info_flags.h"

#include <gtest/gtest.h>

namespace poplar::store::maildir {
namespace {

TEST(InfoFlagsTest, LettersOnlyAfterTwoComma) {
  EXPECT_EQ(info_letters("123.M1P2.host,S=5,W=6:2,FRS"), "FRS");
  EXPECT_EQ(info_letters("123.M1P2.host:2,"), "");
  EXPECT_EQ(info_letters("123.M1P2.host"), "");
  EXPECT_EQ(info_letters("123.M1P2.host:1,stuff"), "");
  EXPECT_EQ(info_letters("123:2"), "");
  EXPECT_EQ(info_letters("123:2,S:extra"), "S:extra");  // everything after the first ':2,'
}

TEST(InfoFlagsTest, SystemLettersMapToImapFlags) {
  MessageFlags flags = flags_from_letters("DFPRST", nullptr);
  for (SystemFlag f : kSystemFlags) {
    EXPECT_TRUE(flags.has(f)) << system_flag_name(f);
  }
  ASSERT_EQ(flags.keywords().size(), 1u);
  EXPECT_EQ(flags.keywords()[0], "$Forwarded");
  EXPECT_EQ(format_flags(flags_from_letters("RS", nullptr)), "\\Seen \\Answered");
  EXPECT_EQ(format_flags(flags_from_letters("T", nullptr)), "\\Deleted");
}

TEST(InfoFlagsTest, KeywordLettersNeedTheTable) {
  KeywordTable table = KeywordTable::parse("0 $Junk\n2 $Label1\n");
  EXPECT_EQ(format_flags(flags_from_letters("Sac", &table)), "\\Seen $Junk $Label1");
  // 'b' is unmapped; without a table no lower-case letter means anything.
  EXPECT_EQ(format_flags(flags_from_letters("Sb", &table)), "\\Seen");
  EXPECT_EQ(format_flags(flags_from_letters("Sac", nullptr)), "\\Seen");
  EXPECT_TRUE(has_keyword_letters("Sa"));
  EXPECT_FALSE(has_keyword_letters("DFPRST"));
}

TEST(InfoFlagsTest, NewLettersAreSortedAndKeepUnknownOnes) {
  KeywordTable table = KeywordTable::parse("0 $Junk\n");
  MessageFlags flags;
  flags.set(SystemFlag::kSeen);
  flags.set(SystemFlag::kDraft);
  flags.add_keyword("$Forwarded");
  flags.add_keyword("$Label9");
  // Old: 'a' ($Junk, known, not wanted), 'z' and 'X' and '7' unknown: kept.
  Result<std::string> letters = letters_for(flags, "azFX7", table);
  ASSERT_TRUE(letters.is_ok());
  EXPECT_EQ(*letters, "7DPSXbz");  // $Label9 got 'b', the first free letter
  EXPECT_TRUE(table.changed());
  EXPECT_EQ(table.keyword('b'), "$Label9");
  EXPECT_EQ(name_with_letters("base,W=3", *letters), "base,W=3:2,7DPSXbz");
  // Removing every flag keeps only the unknown letters.
  EXPECT_EQ(*letters_for(MessageFlags(), "RSTabXz", table), "Xz");
}

TEST(InfoFlagsTest, RoundTripThroughLetters) {
  KeywordTable table;
  MessageFlags flags;
  flags.set(SystemFlag::kAnswered);
  flags.set(SystemFlag::kFlagged);
  flags.set(SystemFlag::kDeleted);
  flags.add_keyword("$Junk");
  flags.add_keyword("$MDNSent");
  Result<std::string> letters = letters_for(flags, "", table);
  ASSERT_TRUE(letters.is_ok());
  EXPECT_EQ(*letters, "FRTab");
  EXPECT_EQ(flags_from_letters(*letters, &table), flags);
}

TEST(InfoFlagsTest, TwentySeventhKeywordIsKLimit) {
  KeywordTable table;
  MessageFlags flags;
  for (int i = 0; i < 26; ++i) {
    flags.add_keyword("k" + std::to_string(i));
  }
  ASSERT_TRUE(letters_for(flags, "", table).is_ok());
  flags.add_keyword("one-too-many");
  EXPECT_EQ(letters_for(flags, "", table).status().code(), ErrorCode::kLimit);
}

}  // namespace
}  // namespace poplar::store::maildir
