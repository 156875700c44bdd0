#include "server/process_limits.h"

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>

namespace poplar::server {
namespace {

uint64_t kernel_nr_open() {
  std::ifstream in("/proc/sys/fs/nr_open");
  uint64_t value = 0;
  if (in >> value && value > 0) {
    return value;
  }
  return 1024 * 1024;  // the kernel's default
}

}  // namespace

uint64_t raise_open_file_limit(uint64_t max_connections) {
  const uint64_t wanted = max_connections * kDescriptorsPerSession + kDescriptorsReserve;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 0;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted) {
    return limit.rlim_cur;
  }
  rlimit raised = limit;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
    // Only root (CAP_SYS_RESOURCE) may raise the hard limit; the kernel caps it at nr_open.
    raised.rlim_max = std::min<uint64_t>(wanted, kernel_nr_open());
    raised.rlim_cur = raised.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      return raised.rlim_cur;
    }
    raised = limit;
  }
  raised.rlim_cur =
      raised.rlim_max == RLIM_INFINITY ? wanted : std::min<uint64_t>(wanted, raised.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    return limit.rlim_cur;
  }
  return raised.rlim_cur;
}

void tune_malloc() {
  // Blocks up to 4 MiB come from the heap (not a fresh mmap per RETR buffer), and free memory
  // at the top of a heap is returned only beyond 64 MiB.
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
}

}  // namespace poplar::server
