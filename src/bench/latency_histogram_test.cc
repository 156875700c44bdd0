// Unit tests for latency_histogram.h: bucket precision, percentiles, merging. Tests only.
#include "bench/latency_histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace poplar::bench {
namespace {

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 10; ++v) {
    h.record(v);
  }
  EXPECT_EQ(h.percentile(0.5), 5u);
  EXPECT_EQ(h.percentile(0.9), 9u);
  EXPECT_EQ(h.percentile(1.0), 10u);
}

TEST(LatencyHistogramTest, PercentilesAreWithinOneBucket) {
  LatencyHistogram h;
  // 1..100000 microseconds, uniformly.
  for (uint64_t us = 1; us <= 100000; ++us) {
    h.record(us * 1000);
  }
  EXPECT_EQ(h.count(), 100000u);
  for (double p : {0.5, 0.9, 0.99}) {
    double want = p * 100000 * 1000;
    double got = static_cast<double>(h.percentile(p));
    EXPECT_GE(got, want) << p;
    EXPECT_LE(got, want * (1 + 1.0 / 64)) << p;
  }
  EXPECT_EQ(h.max(), 100000u * 1000);
  EXPECT_EQ(h.percentile(1.0), h.max());
}

TEST(LatencyHistogramTest, HugeValuesHaveABucket) {
  LatencyHistogram h;
  h.record(std::numeric_limits<uint64_t>::max());
  h.record(0);
  EXPECT_EQ(h.max(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(h.percentile(1.0), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(h.percentile(0.5), 0u);
}

TEST(LatencyHistogramTest, MergeAddsCountsAndKeepsTheMax) {
  LatencyHistogram a;
  LatencyHistogram b;
  for (int i = 0; i < 90; ++i) {
    a.record(1000);
  }
  for (int i = 0; i < 10; ++i) {
    b.record(1'000'000);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_EQ(a.max(), 1'000'000u);
  EXPECT_LE(a.percentile(0.9), 1015u);
  EXPECT_GE(a.percentile(0.91), 1'000'000u - 1'000'000u / 64);
}

}  // namespace
}  // namespace poplar::bench
