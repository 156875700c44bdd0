#include "net/connection_limiter.h"

#include <gtest/gtest.h>

namespace poplar::net {
namespace {

using Verdict = ConnectionLimiter::Verdict;

TEST(ConnectionLimiterTest, CapsConnectionsPerAddress) {
  ConnectionLimiter limiter(100, 2);
  EXPECT_EQ(limiter.try_acquire("192.0.2.1"), Verdict::kAccepted);
  EXPECT_EQ(limiter.try_acquire("192.0.2.1"), Verdict::kAccepted);
  EXPECT_EQ(limiter.try_acquire("192.0.2.1"), Verdict::kTooManyFromAddress);
  EXPECT_EQ(limiter.try_acquire("192.0.2.2"), Verdict::kAccepted);
  limiter.release("192.0.2.1");
  EXPECT_EQ(limiter.try_acquire("192.0.2.1"), Verdict::kAccepted);
  EXPECT_EQ(limiter.total(), 3u);
}

TEST(ConnectionLimiterTest, CapsConnectionsInTotal) {
  ConnectionLimiter limiter(2, 10);
  EXPECT_EQ(limiter.try_acquire("a"), Verdict::kAccepted);
  EXPECT_EQ(limiter.try_acquire("b"), Verdict::kAccepted);
  EXPECT_EQ(limiter.try_acquire("c"), Verdict::kTooManyTotal);
  limiter.release("a");
  EXPECT_EQ(limiter.try_acquire("c"), Verdict::kAccepted);
}

TEST(ConnectionLimiterTest, LogsRefusalsAtMostOncePerSecond) {
  ConnectionLimiter limiter(1, 1);
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.should_log_refusal(t0, suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_FALSE(limiter.should_log_refusal(t0 + std::chrono::milliseconds(10), suppressed));
  EXPECT_FALSE(limiter.should_log_refusal(t0 + std::chrono::milliseconds(20), suppressed));
  EXPECT_TRUE(limiter.should_log_refusal(t0 + std::chrono::seconds(2), suppressed));
  EXPECT_EQ(suppressed, 2u);
}

}  // namespace
}  // namespace poplar::net
