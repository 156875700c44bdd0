// CRLF wire size of a stored message; the rule is documented in crlf_size.h.
//
// Must never: allocate.
//
// Thread-safety: no shared state.
#include "store/crlf_size.h"

#include <cstring>

namespace poplar::store {

void CrlfSizeCounter::update(std::string_view chunk) {
  if (chunk.empty()) {
    return;
  }
  const char* const begin = chunk.data();
  const char* const end = begin + chunk.size();
  const char* p = begin;
  // memchr finds line ends at memory speed; messages are mostly long runs without LF.
  while (p < end) {
    const void* found = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (found == nullptr) {
      break;
    }
    const char* lf = static_cast<const char*>(found);
    bool preceded_by_cr = lf > begin ? lf[-1] == '\r' : (stored_octets_ > 0 && last_ == '\r');
    if (!preceded_by_cr) {
      ++bare_lf_count_;
    }
    p = lf + 1;
  }
  stored_octets_ += chunk.size();
  last_ = chunk.back();
}

uint64_t CrlfSizeCounter::size_octets() const {
  if (stored_octets_ == 0) {
    return 0;
  }
  uint64_t size = stored_octets_ + bare_lf_count_;
  if (last_ != '\n') {
    size += 2;
  }
  return size;
}

uint64_t crlf_size_octets(std::string_view message) {
  CrlfSizeCounter counter;
  counter.update(message);
  return counter.size_octets();
}

}  // namespace poplar::store
