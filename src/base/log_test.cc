#include "base/log.h"

#include <sys/wait.h>
#include <unistd.h>

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

// The default sink caches the pid; a child forked after the parent logged must still log its own.
TEST(LogTest, ForkedChildLogsItsOwnPid) {
  log::reset_sink();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const int saved_stderr = ::dup(STDERR_FILENO);
  ASSERT_GE(saved_stderr, 0);
  ASSERT_EQ(::dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
  log::info("before-fork");
  const pid_t child = ::fork();
  if (child == 0) {
    log::info("in-child");
    ::_exit(0);
  }
  log::info("after-fork");
  ::dup2(saved_stderr, STDERR_FILENO);
  ::close(saved_stderr);
  ::close(fds[1]);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  const std::string parent = " poplar[" + std::to_string(::getpid()) + "]: ";
  EXPECT_NE(text.find(parent + "before-fork\n"), std::string::npos) << text;
  EXPECT_NE(text.find(parent + "after-fork\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" poplar[" + std::to_string(child) + "]: in-child\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace poplar
