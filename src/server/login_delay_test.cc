#include "server/login_delay.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace poplar::server {
namespace {

TEST(LoginDelayTest, SecondLoginWithinDelayIsRefused) {
  testing::FakeClock clock;
  LoginDelay delay(clock, std::chrono::seconds(300));
  EXPECT_TRUE(delay.allowed("alice"));
  delay.record("alice");
  clock.advance(std::chrono::seconds(299));
  EXPECT_FALSE(delay.allowed("alice"));
  EXPECT_TRUE(delay.allowed("bob"));
  clock.advance(std::chrono::seconds(1));
  EXPECT_TRUE(delay.allowed("alice"));
}

TEST(LoginDelayTest, ZeroDelayNeverRefuses) {
  testing::FakeClock clock;
  LoginDelay delay(clock, std::chrono::seconds(0));
  delay.record("alice");
  EXPECT_TRUE(delay.allowed("alice"));
}

}  // namespace
}  // namespace poplar::server
