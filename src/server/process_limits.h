// Process-wide settings `poplar serve` makes before it drops root: enough file descriptors for
// the configured connections, and malloc behaviour that suits a server which streams replies
// through buffers of tens of KiB.
//
// Thread-safety: call once at startup, before other threads exist.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace poplar::server {

// Descriptors one logged-in session holds: its socket and its maildrop lock file.
inline constexpr uint64_t kDescriptorsPerSession = 2;
// Listeners, the log, the passwd-file and index files being read, the signal pipe, ...
inline constexpr uint64_t kDescriptorsReserve = 256;

// Raises RLIMIT_NOFILE so `max_connections` logged-in sessions fit: the soft limit up to the
// hard one, and — when allowed (root, or CAP_SYS_RESOURCE) — the hard limit too, up to
// /proc/sys/fs/nr_open. Returns the soft limit now in force. Never lowers a limit.
uint64_t raise_open_file_limit(uint64_t max_connections);

// glibc malloc: a streamed reply grows a buffer to ~100 KiB and frees it when the reply ends.
// With the default dynamic thresholds glibc returns such memory to the kernel (brk/madvise)
// and faults it back in on the next RETR; on a loaded server that costs more than the copy
// itself. Fixed thresholds keep freed blocks for reuse by any session.
void tune_malloc();

}  // namespace poplar::server
