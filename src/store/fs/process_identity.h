// Who is delivering: the host name and process id that go into unique Maildir file names and
// mbox dotlocks (https://cr.yp.to/proto/maildir.html). Kept beside the file-system seam because,
// with posix_file_system.cc, this is the only code of the store that asks the OS anything.
//
// Must never: fail (a host name the OS will not tell is "localhost"), or cache the process id
// (it changes in a forked child).
//
// Thread-safety: safe from any thread.
#pragma once

#include <cstdint>
#include <string>

namespace poplar::store::fs {

// gethostname(2), read once per process; "localhost" when it fails or is empty.
const std::string& host_name();

// getpid(2).
uint64_t process_id();

}  // namespace poplar::store::fs
