// LatencyHistogram: latencies in nanoseconds counted in fixed log-linear buckets (HdrHistogram
// style), so a run of millions of sessions costs a few KiB and an O(1) record(), never a
// vector of samples. Every power of two is split into 64 linear buckets: a reported percentile
// is within 1/64 (1.6 %) of the true value; the maximum is kept exactly.
//
// No I/O. Thread-safety: not thread-safe; one per event-loop thread, merged at the end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace poplar::bench {

class LatencyHistogram {
 public:
  void record(uint64_t nanoseconds);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // The value below which `fraction` (0..1] of the samples lie: the upper edge of the bucket
  // holding that rank, capped at max(). 0 when empty.
  uint64_t percentile(double fraction) const;

 private:
  // 64 sub-buckets per power of two (6 bits); values below 64 ns get one bucket each.
  static constexpr int kSubBits = 6;
  static constexpr size_t kSub = size_t{1} << kSubBits;
  // Powers of two from 2^6 to 2^63: every uint64_t has a bucket.
  static constexpr size_t kBuckets = kSub + (64 - kSubBits) * kSub;

  static size_t bucket_of(uint64_t value);
  static uint64_t upper_edge(size_t bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace poplar::bench
