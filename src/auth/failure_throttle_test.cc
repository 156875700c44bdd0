#include "auth/failure_throttle.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "testing/fake_clock.h"

namespace poplar::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(FailureThrottleTest, DelayDoublesPerFailureUpToTheCap) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock);  // 2 s base, 15 s cap
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(2000));
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(4000));
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(8000));
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(15000));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(15000));
  }
  EXPECT_EQ(throttle.ip_failures("192.0.2.1"), 104u);
}

TEST(FailureThrottleTest, CountsPerIpAndPerUserIndependently) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(100)});
  // One user attacked from many addresses: the user's count drives the delay.
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(100));
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.2", "alice"), milliseconds(200));
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.3", "alice"), milliseconds(400));
  // One address trying many users: the address's count drives it.
  EXPECT_EQ(throttle.delay_after_failure("198.51.100.7", "u1"), milliseconds(100));
  EXPECT_EQ(throttle.delay_after_failure("198.51.100.7", "u2"), milliseconds(200));
  EXPECT_EQ(throttle.delay_after_failure("198.51.100.7", "u3"), milliseconds(400));
  // Unrelated pair: fresh.
  EXPECT_EQ(throttle.delay_after_failure("203.0.113.9", "bob"), milliseconds(100));
  EXPECT_EQ(throttle.user_failures("alice"), 3u);
  EXPECT_EQ(throttle.ip_failures("198.51.100.7"), 3u);
}

TEST(FailureThrottleTest, CountersDecayAfterQuietPeriod) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000), .decay = minutes(10)});
  throttle.delay_after_failure("192.0.2.1", "alice");
  throttle.delay_after_failure("192.0.2.1", "alice");
  clock.advance(minutes(9));
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(4000));
  clock.advance(minutes(10));
  EXPECT_EQ(throttle.ip_failures("192.0.2.1"), 0u);
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(1000));
}

TEST(FailureThrottleTest, SuccessClearsTheUserButNotTheAddress) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000)});
  throttle.delay_after_failure("192.0.2.1", "alice");
  throttle.delay_after_failure("192.0.2.1", "alice");
  throttle.record_success("192.0.2.1", "alice");
  EXPECT_EQ(throttle.user_failures("alice"), 0u);
  EXPECT_EQ(throttle.ip_failures("192.0.2.1"), 2u);
  // The address still carries its history.
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(4000));
  // From another address, alice starts over.
  throttle.record_success("192.0.2.1", "alice");
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.99", "alice"), milliseconds(1000));
}

TEST(FailureThrottleTest, ZeroBaseDelayDisablesWaiting) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(0)});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(0));
  }
  EXPECT_EQ(throttle.ip_failures("192.0.2.1"), 5u);
}

TEST(FailureThrottleTest, EmptyKeysAreNotCounted) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(10)});
  EXPECT_EQ(throttle.delay_after_failure("", ""), milliseconds(10));
  EXPECT_EQ(throttle.delay_after_failure("", ""), milliseconds(10));
  EXPECT_EQ(throttle.tracked_entries_for_test(), 0u);
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", ""), milliseconds(10));
  EXPECT_EQ(throttle.tracked_entries_for_test(), 1u);
}

TEST(FailureThrottleTest, MemoryIsBoundedByEvictingTheLeastRecentFailure) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(10), .max_entries = 3});
  throttle.delay_after_failure("ip1", "");
  clock.advance(seconds(1));
  throttle.delay_after_failure("ip2", "");
  clock.advance(seconds(1));
  throttle.delay_after_failure("ip3", "");
  clock.advance(seconds(1));
  throttle.delay_after_failure("ip1", "");  // ip1 is now the most recent
  clock.advance(seconds(1));
  throttle.delay_after_failure("ip4", "");  // evicts ip2
  EXPECT_EQ(throttle.tracked_entries_for_test(), 3u);
  EXPECT_EQ(throttle.ip_failures("ip2"), 0u);
  EXPECT_EQ(throttle.ip_failures("ip1"), 2u);
  EXPECT_EQ(throttle.ip_failures("ip3"), 1u);
  EXPECT_EQ(throttle.ip_failures("ip4"), 1u);
  // A spray of made-up user names stays within the bound too.
  for (int i = 0; i < 1000; ++i) {
    throttle.delay_after_failure("ip1", "user" + std::to_string(i));
  }
  EXPECT_EQ(throttle.tracked_entries_for_test(), 6u);
  EXPECT_EQ(throttle.ip_failures("ip1"), 1002u);
}

TEST(FailureThrottleTest, ConcurrentFailuresAreAllCounted) {
  testing::FakeClock clock;  // not advanced while the threads run
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1)});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&throttle, t] {
      for (int i = 0; i < 500; ++i) {
        throttle.delay_after_failure("192.0.2.1", "user" + std::to_string(t));
        if (i % 50 == 0) {
          throttle.record_success("192.0.2.1", "other");
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(throttle.ip_failures("192.0.2.1"), 4000u);
  EXPECT_EQ(throttle.user_failures("user3"), 500u);
}

}  // namespace
}  // namespace poplar::auth
