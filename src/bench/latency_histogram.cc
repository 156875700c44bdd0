// LatencyHistogram. See latency_histogram.h.
//
// Thread-safety: see latency_histogram.h.
#include "bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace poplar::bench {

size_t LatencyHistogram::bucket_of(uint64_t value) {
  if (value < kSub) {
    return static_cast<size_t>(value);
  }
  // value in [2^e, 2^(e+1)), e >= kSubBits: the top kSubBits+1 bits pick the bucket.
  const int e = 63 - std::countl_zero(value);
  const int shift = e - kSubBits;
  const size_t sub = static_cast<size_t>(value >> shift) - kSub;  // 0..kSub-1
  return kSub + static_cast<size_t>(shift) * kSub + sub;
}

uint64_t LatencyHistogram::upper_edge(size_t bucket) {
  if (bucket < kSub) {
    return bucket;
  }
  const size_t shift = (bucket - kSub) / kSub;
  const uint64_t sub = (bucket - kSub) % kSub;
  const uint64_t low = (kSub + sub) << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::record(uint64_t nanoseconds) {
  ++counts_[bucket_of(nanoseconds)];
  ++count_;
  max_ = std::max(max_, nanoseconds);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) {
    counts_[i] += other.counts_[i];
  }
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::percentile(double fraction) const {
  if (count_ == 0) {
    return 0;
  }
  // The rank of the sample (1-based): p50 of 4 samples is the 2nd.
  double wanted = std::ceil(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(count_));
  uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::min(upper_edge(i), max_);
    }
  }
  return max_;
}

}  // namespace poplar::bench
