// Unit tests for command.h: keyword and per-command argument grammar over untrusted lines.
// Tests only; no I/O.
#include "pop3/command.h"

#include <gtest/gtest.h>

#include <string>

namespace poplar::pop3 {
namespace {

TEST(CommandTest, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(parse_command_line("retr 1").command, Command::kRetr);
  EXPECT_EQ(parse_command_line("Retr 1").command, Command::kRetr);
  EXPECT_EQ(parse_command_line("RETR 1").command, Command::kRetr);
  EXPECT_EQ(parse_command_line("capa").command, Command::kCapa);
}

TEST(CommandTest, UnknownAndMalformedKeywords) {
  EXPECT_EQ(parse_command_line("HELO").command, Command::kUnknown);
  EXPECT_EQ(parse_command_line("GET / HTTP/1.1").command, Command::kUnknown);
  EXPECT_EQ(parse_command_line("").error, SyntaxError::kBadKeyword);
  EXPECT_EQ(parse_command_line("ST").error, SyntaxError::kBadKeyword);
  EXPECT_EQ(parse_command_line("STATS").error, SyntaxError::kBadKeyword);
  EXPECT_EQ(parse_command_line(" STAT").error, SyntaxError::kBadKeyword);
  EXPECT_EQ(parse_command_line("ST\xc3\xa4T").error, SyntaxError::kBadKeyword);
}

TEST(CommandTest, PassKeepsTheRestOfTheLineVerbatim) {
  auto c = parse_command_line("PASS pw with spaces ");
  ASSERT_EQ(c.error, SyntaxError::kNone);
  EXPECT_EQ(c.args.first, "pw with spaces ");
  EXPECT_EQ(parse_command_line("PASS  lead").args.first, " lead");
  EXPECT_EQ(parse_command_line("PASS").error, SyntaxError::kMissingArgument);
  EXPECT_EQ(parse_command_line("PASS ").error, SyntaxError::kMissingArgument);
}

TEST(CommandTest, UserTakesOneWord) {
  EXPECT_EQ(parse_command_line("USER alice").args.first, "alice");
  EXPECT_EQ(parse_command_line("USER alice smith").error, SyntaxError::kTooManyArguments);
  EXPECT_EQ(parse_command_line("USER").error, SyntaxError::kMissingArgument);
}

TEST(CommandTest, RejectsNulAndControlBytes) {
  EXPECT_EQ(parse_command_line(std::string("US\0ER a", 7)).error, SyntaxError::kControlByte);
  EXPECT_EQ(parse_command_line("PASS a\tb").error, SyntaxError::kControlByte);
  EXPECT_EQ(parse_command_line("STAT\r").error, SyntaxError::kControlByte);
  EXPECT_EQ(parse_command_line("NOOP\x7f").error, SyntaxError::kControlByte);
}

TEST(CommandTest, MessageNumbersAreStrict) {
  EXPECT_EQ(parse_command_line("LIST 4294967297").error, SyntaxError::kBadMessageNumber);
  EXPECT_EQ(parse_command_line("LIST 0").error, SyntaxError::kBadMessageNumber);
  EXPECT_EQ(parse_command_line("LIST abc").error, SyntaxError::kBadMessageNumber);
  EXPECT_EQ(parse_command_line("LIST -1").error, SyntaxError::kBadMessageNumber);
  EXPECT_EQ(parse_command_line("LIST +1").error, SyntaxError::kBadMessageNumber);
  EXPECT_EQ(parse_command_line("LIST 1x").error, SyntaxError::kBadMessageNumber);
  auto c = parse_command_line("LIST 4294967295");
  ASSERT_EQ(c.error, SyntaxError::kNone);
  EXPECT_EQ(c.args.message->value, 4294967295u);
}

TEST(CommandTest, OptionalMessageNumber) {
  auto bare = parse_command_line("UIDL");
  EXPECT_EQ(bare.error, SyntaxError::kNone);
  EXPECT_FALSE(bare.args.message.has_value());
  EXPECT_EQ(parse_command_line("UIDL 3").args.message->value, 3u);
  EXPECT_EQ(parse_command_line("UIDL 1 2").error, SyntaxError::kTooManyArguments);
}

TEST(CommandTest, RequiredArguments) {
  EXPECT_EQ(parse_command_line("RETR").error, SyntaxError::kMissingArgument);
  EXPECT_EQ(parse_command_line("DELE").error, SyntaxError::kMissingArgument);
  EXPECT_EQ(parse_command_line("TOP 1").error, SyntaxError::kMissingArgument);
  EXPECT_EQ(parse_command_line("STAT 1").error, SyntaxError::kTooManyArguments);
  EXPECT_EQ(parse_command_line("QUIT now").error, SyntaxError::kTooManyArguments);
}

TEST(CommandTest, TopLineCount) {
  auto c = parse_command_line("TOP 2 0");
  ASSERT_EQ(c.error, SyntaxError::kNone);
  EXPECT_EQ(c.args.message->value, 2u);
  EXPECT_EQ(*c.args.lines, 0u);
  EXPECT_EQ(parse_command_line("TOP 1 -1").error, SyntaxError::kBadLineCount);
  EXPECT_EQ(parse_command_line("TOP 1 4294967296").error, SyntaxError::kBadLineCount);
  EXPECT_EQ(parse_command_line("TOP 0 1").error, SyntaxError::kBadMessageNumber);
}

TEST(CommandTest, SingleSpaceBetweenArgumentsTrailingSpaceTolerated) {
  EXPECT_EQ(parse_command_line("TOP 1  2").error, SyntaxError::kEmptyArgument);
  EXPECT_EQ(parse_command_line("LIST  1").error, SyntaxError::kEmptyArgument);
  EXPECT_EQ(parse_command_line("LIST 1 ").error, SyntaxError::kNone);
  EXPECT_EQ(parse_command_line("STAT ").error, SyntaxError::kNone);
}

TEST(CommandTest, ApopNeedsNameAndHexDigest) {
  auto c = parse_command_line("APOP mrose c4c9334bac560ecc979e58001b3e22fb");
  ASSERT_EQ(c.error, SyntaxError::kNone);
  EXPECT_EQ(c.args.first, "mrose");
  EXPECT_EQ(c.args.second, "c4c9334bac560ecc979e58001b3e22fb");
  EXPECT_EQ(parse_command_line("APOP mrose").error, SyntaxError::kMissingArgument);
  EXPECT_EQ(parse_command_line("APOP mrose xyz").error, SyntaxError::kBadArgument);
  EXPECT_EQ(parse_command_line("APOP mrose c4c9334bac560ecc979e58001b3e22fg").error,
            SyntaxError::kBadArgument);
}

TEST(CommandTest, AuthTakesOptionalMechanismAndInitialResponse) {
  EXPECT_TRUE(parse_command_line("AUTH").args.first.empty());
  auto c = parse_command_line("AUTH PLAIN AGFsaWNlAHNlY3JldA==");
  EXPECT_EQ(c.args.first, "PLAIN");
  EXPECT_EQ(c.args.second, "AGFsaWNlAHNlY3JldA==");
  EXPECT_EQ(parse_command_line("AUTH A B C").error, SyntaxError::kTooManyArguments);
}

TEST(CommandTest, XtndIgnoresItsArguments) {
  auto c = parse_command_line("XTND XLST Message-Id");
  EXPECT_EQ(c.command, Command::kXtnd);
  EXPECT_EQ(c.error, SyntaxError::kNone);
}

TEST(CommandTest, PartTakesMessageOptionalSectionAndMime) {
  auto listing = parse_command_line("PART 3");
  ASSERT_EQ(listing.error, SyntaxError::kNone);
  EXPECT_EQ(listing.command, Command::kPart);
  EXPECT_EQ(listing.args.message, MessageNumber{3});
  EXPECT_TRUE(listing.args.section.empty());
  EXPECT_FALSE(listing.args.mime);
  auto body = parse_command_line("part 1 2.10.3");
  ASSERT_EQ(body.error, SyntaxError::kNone);
  EXPECT_EQ(body.args.section, "2.10.3");
  EXPECT_FALSE(body.args.mime);
  for (const char* line : {"PART 1 1 MIME", "PART 1 1 mime", "PART 1 1 Mime"}) {
    auto header = parse_command_line(line);
    ASSERT_EQ(header.error, SyntaxError::kNone) << line;
    EXPECT_EQ(header.args.section, "1");
    EXPECT_TRUE(header.args.mime);
  }
}

TEST(CommandTest, PartRefusesMalformedArguments) {
  EXPECT_EQ(parse_command_line("PART").error, SyntaxError::kMissingArgument);
  EXPECT_EQ(parse_command_line("PART 0").error, SyntaxError::kBadMessageNumber);
  EXPECT_EQ(parse_command_line("PART x").error, SyntaxError::kBadMessageNumber);
  EXPECT_EQ(parse_command_line("PART 4294967297").error, SyntaxError::kBadMessageNumber);
  for (const char* section : {"0", "01", "1.", ".1", "1..2", "1.0", "a", "1.x", "-1", "1,2",
                              "4294967296", "1.99999999999", "TEXT", "HEADER"}) {
    EXPECT_EQ(parse_command_line(std::string("PART 1 ") + section).error, SyntaxError::kBadSection)
        << section;
  }
  EXPECT_EQ(parse_command_line("PART 1 1 HEADER").error, SyntaxError::kBadArgument);
  EXPECT_EQ(parse_command_line("PART 1 1 MIMEX").error, SyntaxError::kBadArgument);
  EXPECT_EQ(parse_command_line("PART 1 1 MIME x").error, SyntaxError::kTooManyArguments);
  EXPECT_EQ(parse_command_line("PART 1  1").error, SyntaxError::kEmptyArgument);
  EXPECT_EQ(parse_command_line("PART 1 1 ").error, SyntaxError::kNone);  // trailing SP, as LIST
}

}  // namespace
}  // namespace poplar::pop3
