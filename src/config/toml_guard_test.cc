#include "config/toml_guard.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace poplar::config {
namespace {

TEST(TomlGuardTest, NonAsciiInStringsAndCommentsIsFine) {
  for (const char* text :
       {"a = \"é\"\n", "# é comment\na = 1\n", "a = 'é'\n", "a = \"\"\"\né\n\"\"\"\n",
        "a = '''é'''\n", "\"é\" = 1\n", "a = \"x\\\"é\"\n", "a = \"\"\"x\"\"\"\"\nb = 1\n"}) {
    EXPECT_TRUE(check_non_ascii_outside_strings(text, "t.toml").is_ok()) << text;
  }
}

TEST(TomlGuardTest, NonAsciiOutsideStringsIsRefusedWithItsLine) {
  Status s = check_non_ascii_outside_strings("a = 1\nb = 2 é\n", "t.toml");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "t.toml:2: non-ASCII character outside a string or comment");
  EXPECT_FALSE(check_non_ascii_outside_strings("é = 1\n", "t.toml").is_ok());
  EXPECT_FALSE(check_non_ascii_outside_strings("a = \"x\"é\n", "t.toml").is_ok());
  EXPECT_FALSE(check_non_ascii_outside_strings("a = '''x'''é\n", "t.toml").is_ok());
}

TEST(TomlGuardTest, StringsWhereTomlAllowsThemStillCount) {
  for (const char* text :
       {"a = [\n  \"é\",\n  'é' ]\n", "t = {x = \"é\", y = 'é'}\n", "[\"é\".'é']\n", "[[\"é\"]]\n",
        "a.\"é\" = 1\n", "a = \"x\" # é\r\nb = \"é\"\r\n"}) {
    EXPECT_TRUE(check_non_ascii_outside_strings(text, "t.toml").is_ok()) << text;
  }
}

TEST(TomlGuardTest, AQuoteWhereNoStringCanBeginOpensNone) {
  // Found by fuzz_fetch_accounts: toml++ scanned `2"...` as bare text up to the non-ASCII
  // character and reached __builtin_unreachable().
  EXPECT_FALSE(check_non_ascii_outside_strings("url = 2\"htp:`-0\xd1\x84\"\n", "t.toml").is_ok());
  EXPECT_FALSE(check_non_ascii_outside_strings("a = x'\xd1\x84'\n", "t.toml").is_ok());
  EXPECT_FALSE(check_non_ascii_outside_strings("a = \"x\"\"\xd1\x84\"\n", "t.toml").is_ok());
}

TEST(TomlGuardTest, ParseConfigRefusesTheInputThatCrashedToml) {
  // Found by fuzz_config: toml++ 3.3 reached __builtin_unreachable() on this.
  auto config = parse_config("hostname = \"x\"\n\xd2\x93rg = 1\n", "t.toml", "/tmp");
  ASSERT_FALSE(config.is_ok());
  EXPECT_NE(config.status().message().find("t.toml:2:"), std::string::npos);
}

}  // namespace
}  // namespace poplar::config
