// Tests of MessageFlags and the POP4 flag syntax (POP4.md "Common syntax", "Flag commands").
#include "store/message_flags.h"

#include <gtest/gtest.h>

#include <string>

namespace poplar::store {
namespace {

TEST(MessageFlagsTest, SystemFlagsAreCaseInsensitive) {
  for (const char* token : {"\\Seen", "\\SEEN", "\\seen", "\\sEeN"}) {
    Result<Flag> flag = parse_flag(token);
    ASSERT_TRUE(flag.is_ok()) << token;
    EXPECT_EQ(flag->system, SystemFlag::kSeen) << token;
  }
  for (SystemFlag f : kSystemFlags) {
    Result<Flag> flag = parse_flag(system_flag_name(f));
    ASSERT_TRUE(flag.is_ok());
    EXPECT_EQ(flag->system, f);
  }
}

TEST(MessageFlagsTest, KeywordsAreAtoms) {
  for (const char* token : {"$Junk", "$Forwarded", "NonJunk", "$Label1", "a", "x.y-z_!#&'+"}) {
    Result<Flag> flag = parse_flag(token);
    ASSERT_TRUE(flag.is_ok()) << token;
    EXPECT_FALSE(flag->system);
    EXPECT_EQ(flag->keyword, token);
  }
  EXPECT_TRUE(parse_flag(std::string(kMaxKeywordLength, 'k')).is_ok());
}

TEST(MessageFlagsTest, BadTokensAreInvalidInputNeverACrash) {
  const std::string bad[] = {
      "",      "\\Recent", "\\",     "\\Seenx",  "two words",
      "(x)",   "a{1}",     "x]",     "50%",      "a*",
      "\"q\"", "back\\x",  "tab\tx", "\xc3\xa9", std::string(kMaxKeywordLength + 1, 'k')};
  for (const std::string& token : bad) {
    Result<Flag> flag = parse_flag(token);
    ASSERT_FALSE(flag.is_ok()) << token;
    EXPECT_EQ(flag.status().code(), ErrorCode::kInvalidInput);
    for (char c : flag.status().message()) {
      EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << "control character in the message";
    }
  }
  EXPECT_FALSE(parse_flag(std::string("nul\0x", 5)).is_ok());
}

TEST(MessageFlagsTest, KeywordSetIgnoresCaseAndKeepsTheFirstSpelling) {
  MessageFlags flags;
  EXPECT_TRUE(flags.add_keyword("$Junk"));
  EXPECT_TRUE(flags.add_keyword("$JUNK"));
  EXPECT_TRUE(flags.add_keyword("$Label1"));
  EXPECT_FALSE(flags.add_keyword("no good"));
  ASSERT_EQ(flags.keywords().size(), 2u);
  EXPECT_EQ(flags.keywords()[0], "$Junk");
  EXPECT_TRUE(flags.has_keyword("$junk"));
  flags.remove_keyword("$jUnK");
  EXPECT_FALSE(flags.has_keyword("$Junk"));
  EXPECT_TRUE(flags.has_keyword("$label1"));
}

TEST(MessageFlagsTest, EqualityIsSetEquality) {
  MessageFlags a;
  a.add_keyword("b");
  a.add_keyword("A");
  a.set(SystemFlag::kSeen);
  MessageFlags b;
  b.set(SystemFlag::kSeen);
  b.add_keyword("a");
  b.add_keyword("B");
  EXPECT_EQ(a, b);
  b.set(SystemFlag::kDraft);
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(MessageFlags().empty());
  EXPECT_FALSE(a.empty());
}

TEST(MessageFlagsTest, EditsAddAndRemove) {
  MessageFlags flags;
  for (const char* token : {"+\\Seen", "+\\flagged", "+$Junk", "-\\Seen", "-$junk", "+$Label2"}) {
    Result<FlagEdit> edit = parse_flag_edit(token);
    ASSERT_TRUE(edit.is_ok()) << token;
    apply_flag_edit(flags, *edit);
  }
  EXPECT_EQ(format_flags(flags), "\\Flagged $Label2");
  for (const char* token : {"", "+", "-", "\\Seen", "*\\Seen", "+\\Recent", "+two words"}) {
    EXPECT_EQ(parse_flag_edit(token).status().code(), ErrorCode::kInvalidInput) << token;
  }
}

TEST(MessageFlagsTest, ListParsesAndFormatsInFixedOrder) {
  Result<MessageFlags> flags =
      parse_flag_list("$Junk \\draft  \\Seen \\Answered \\Deleted \\Flagged");
  ASSERT_TRUE(flags.is_ok());
  EXPECT_EQ(format_flags(*flags), "\\Seen \\Answered \\Flagged \\Deleted \\Draft $Junk");
  EXPECT_TRUE(parse_flag_list("")->empty());
  EXPECT_EQ(parse_flag_list("\\Seen \\Recent").status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(format_flags(MessageFlags()), "");
}

}  // namespace
}  // namespace poplar::store
