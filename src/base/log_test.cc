#include "base/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace poplar {
namespace {

TEST(LogTest, WritesOneKeyValueLine) {
  std::vector<std::string> lines;
  log::set_sink_for_test([&](log::Level, std::string_view l) { lines.emplace_back(l); });
  log::info("login").kv("user", "bob").kv("rip", "192.0.2.1").kv("n", 3);
  log::reset_sink();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "login user=bob rip=192.0.2.1 n=3");
}

TEST(LogTest, PeerControlledValuesCannotForgeLines) {
  EXPECT_EQ(log::escape_value("bob\r\nlogin user=root"), "\"bob\\x0d\\x0alogin user=root\"");
  EXPECT_EQ(log::escape_value(""), "\"\"");
  EXPECT_EQ(log::escape_value("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(log::escape_value("a=b"), "\"a=b\"");
}

}  // namespace
}  // namespace poplar
