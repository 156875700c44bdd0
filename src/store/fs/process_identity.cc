// The host name and process id of the delivering process; see process_identity.h.
//
// Must never: fail.
//
// Thread-safety: the host name is computed once under the static-initialisation guard.
#include "store/fs/process_identity.h"

#include <unistd.h>

#include <climits>

namespace poplar::store::fs {
namespace {

std::string ask_host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

}  // namespace

const std::string& host_name() {
  static const std::string name = ask_host_name();
  return name;
}

uint64_t process_id() { return static_cast<uint64_t>(::getpid()); }

}  // namespace poplar::store::fs
