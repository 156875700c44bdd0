// Counts the heap memory the process holds through operator new, so a benchmark can report
// how many bytes an object keeps alive (e.g. one open maildrop). heap_counter.cc replaces the
// global operator new and delete for the whole poplar_microbench executable; the count is the
// malloc_usable_size() of every live block, which is what the allocator really set aside
// (without its 8-16 bytes of per-block header).
//
// Must never: be linked into anything but poplar_microbench.
//
// Thread-safety: the counters are atomic; a measurement is only meaningful while no other
// thread allocates.
#pragma once

#include <cstdint>

namespace poplar::microbench {

struct HeapUsage {
  int64_t bytes = 0;   // usable bytes of the live blocks
  int64_t blocks = 0;  // live blocks
};

HeapUsage heap_usage();

}  // namespace poplar::microbench
