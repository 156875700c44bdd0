#include "auth/failure_throttle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "testing/fake_clock.h"

namespace poplar::auth {

// For gtest's messages (found by argument-dependent lookup, so not in the anonymous namespace).
void PrintTo(const Admission& a, std::ostream* os) {
  *os << (a.kind == Admission::Kind::kNow    ? "now "
          : a.kind == Admission::Kind::kWait ? "wait "
                                             : "refused ")
      << a.wait.count() << " ms";
}

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

// --- turns (admit) ---------------------------------------------------------------------------

Admission now() { return {Admission::Kind::kNow, milliseconds(0)}; }
Admission wait(milliseconds ms) { return {Admission::Kind::kWait, ms}; }
Admission refused(milliseconds ms) { return {Admission::Kind::kRefused, ms}; }

TEST(FailureThrottleTurnsTest, AnAddressWithoutFailuresPassesAtOnceAndHoldsNoEntry) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000)});
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(throttle.admit("192.0.2.1"), now());
  }
  EXPECT_EQ(throttle.admit(""), now());
  EXPECT_EQ(throttle.tracked_entries_for_test(), 0u);
}

TEST(FailureThrottleTurnsTest, ParallelAttemptsAfterAFailureAreSerialized) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000),
                                   .max_delay = milliseconds(15000),
                                   .max_wait = milliseconds(30000)});
  EXPECT_EQ(throttle.admit("192.0.2.1"), now());
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(1000));
  // Six connections ask at the same moment: one turn each, the first after the failure's
  // delay, each next one the delay later that the one before would earn by failing (2, 4, 8,
  // 15 s): no two passwords are checked at the same time, and the pace is that of a single
  // connection guessing. The sixth turn would be 45 s away: refused.
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(1000)));
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(3000)));
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(7000)));
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(15000)));
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(30000)));
  EXPECT_EQ(throttle.admit("192.0.2.1"), refused(milliseconds(45000)));
  // Another address is not held back.
  EXPECT_EQ(throttle.admit("192.0.2.2"), now());
}

TEST(FailureThrottleTurnsTest, QueuedChecksFailingKeepTheTurnsAhead) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000)});
  throttle.delay_after_failure("192.0.2.1", "u1");
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(1000)));  // turn at 1 s
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(3000)));  // turn at 3 s
  clock.advance(milliseconds(1000));
  // The first queued check fails (the address's second failure): 2 s, as projected.
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "u2"), milliseconds(2000));
  clock.advance(milliseconds(2000));
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "u3"), milliseconds(4000));
  // Now at 3 s with three failures: the next turn is at 7 s, the one after 8 s later.
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(4000)));
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(12000)));
  EXPECT_EQ(throttle.ip_failures("192.0.2.1"), 3u);
}

TEST(FailureThrottleTurnsTest, OneConnectionAtATimeSeesTheDelaysOfToday) {
  // A guesser that waits for each reply: the reply's delay already covers the turn, so the
  // next attempt is checked at once and the figures stay 1-2-4-8-15 s.
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000)});
  const milliseconds expected[] = {milliseconds(1000), milliseconds(2000),  milliseconds(4000),
                                   milliseconds(8000), milliseconds(15000), milliseconds(15000)};
  for (milliseconds delay : expected) {
    EXPECT_EQ(throttle.admit("192.0.2.1"), now());
    EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), delay);
    clock.advance(delay);
  }
}

TEST(FailureThrottleTurnsTest, AnAttemptWhoseTurnIsTooFarAwayIsRefusedAndTakesNoTurn) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000),
                                   .max_delay = milliseconds(15000),
                                   .max_wait = milliseconds(30000)});
  for (int i = 0; i < 10; ++i) {
    throttle.delay_after_failure("192.0.2.1", "alice");  // at the 15 s cap
  }
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(15000)));
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(30000)));  // exactly max_wait
  EXPECT_EQ(throttle.admit("192.0.2.1"), refused(milliseconds(45000)));
  EXPECT_EQ(throttle.admit("192.0.2.1"), refused(milliseconds(45000)));  // took no turn
  clock.advance(milliseconds(15000));
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(30000)));
  // The refusals were no failures: the count is what the ten checks made it.
  EXPECT_EQ(throttle.ip_failures("192.0.2.1"), 10u);
}

TEST(FailureThrottleTurnsTest, ASuccessDoesNotLiftTheAddressTurns) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000)});
  throttle.delay_after_failure("192.0.2.1", "mallory");
  throttle.delay_after_failure("192.0.2.1", "mallory");
  clock.advance(milliseconds(2000));
  EXPECT_EQ(throttle.admit("192.0.2.1"), now());
  throttle.record_success("192.0.2.1", "mallory");  // one right guess says nothing of the rest
  // The turn taken above was spaced as if it failed (a third failure: 4 s).
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(4000)));
}

TEST(FailureThrottleTurnsTest, TurnsEndWhenTheFailuresDecay) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000), .decay = minutes(10)});
  for (int i = 0; i < 6; ++i) {
    throttle.delay_after_failure("192.0.2.1", "alice");
  }
  clock.advance(minutes(10));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(throttle.admit("192.0.2.1"), now());
  }
  // A new failure starts again from the first delay.
  EXPECT_EQ(throttle.delay_after_failure("192.0.2.1", "alice"), milliseconds(1000));
  EXPECT_EQ(throttle.admit("192.0.2.1"), wait(milliseconds(1000)));
}

TEST(FailureThrottleTurnsTest, AnEvictedAddressStartsAfreshAndMemoryStaysBounded) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(1000), .max_entries = 2});
  throttle.delay_after_failure("ip1", "");
  throttle.delay_after_failure("ip2", "");
  throttle.delay_after_failure("ip3", "");  // drops ip1, the least recently failed
  EXPECT_EQ(throttle.admit("ip1"), now());
  EXPECT_EQ(throttle.admit("ip3"), wait(milliseconds(1000)));
  for (int i = 0; i < 1000; ++i) {
    throttle.admit("ip" + std::to_string(i));
  }
  EXPECT_EQ(throttle.tracked_entries_for_test(), 2u);
}

TEST(FailureThrottleTurnsTest, ZeroBaseDelayNeverMakesAnyoneWait) {
  testing::FakeClock clock;
  FailureThrottle throttle(clock, {.base_delay = milliseconds(0)});
  for (int i = 0; i < 10; ++i) {
    throttle.delay_after_failure("192.0.2.1", "alice");
    EXPECT_EQ(throttle.admit("192.0.2.1"), now());
  }
}

TEST(FailureThrottleTurnsTest, ConcurrentAdmissionsGetDistinctTurns) {
  testing::FakeClock clock;  // not advanced while the threads run
  FailureThrottle throttle(clock,
                           {.base_delay = milliseconds(1000), .max_wait = std::chrono::hours(3)});
  throttle.delay_after_failure("192.0.2.1", "alice");
  std::vector<std::vector<int64_t>> waits(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&throttle, &waits, t] {
      for (int i = 0; i < 50; ++i) {
        waits[t].push_back(throttle.admit("192.0.2.1").wait.count());
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  std::vector<int64_t> all;
  for (const auto& w : waits) {
    all.insert(all.end(), w.begin(), w.end());
  }
  std::sort(all.begin(), all.end());
  // 1, 3, 7, 15 s, then one every 15 s (the cap): each attempt its own turn.
  EXPECT_EQ(all[0], 1000);
  EXPECT_EQ(all[3], 15000);
  for (size_t i = 4; i < all.size(); ++i) {
    EXPECT_EQ(all[i] - all[i - 1], 15000) << i;
  }
}

}  // namespace
}  // namespace poplar::auth
