// Streaming CRLF → LF; see lf_line_ends.h.
//
// Must never: depend on how the input is cut into chunks.
//
// Thread-safety: no shared state.
#include "store/lf_line_ends.h"

#include <cstring>

namespace poplar::store {

void CrlfToLf::convert(std::string_view chunk, std::string* out) {
  if (chunk.empty()) {
    return;
  }
  input_octets_ += chunk.size();
  const size_t before = out->size();
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  if (pending_cr_) {
    pending_cr_ = false;
    if (*p != '\n') {
      out->push_back('\r');  // a bare CR: kept
    }
  }
  // memchr finds CRs at memory speed; the runs between them are copied whole.
  while (p < end) {
    const void* found = std::memchr(p, '\r', static_cast<size_t>(end - p));
    if (found == nullptr) {
      out->append(p, static_cast<size_t>(end - p));
      break;
    }
    const char* cr = static_cast<const char*>(found);
    out->append(p, static_cast<size_t>(cr - p));
    if (cr + 1 == end) {
      pending_cr_ = true;  // the next chunk decides
      break;
    }
    if (cr[1] != '\n') {
      out->push_back('\r');
    }
    p = cr + 1;
  }
  output_octets_ += out->size() - before;
}

void CrlfToLf::finish(std::string* out) {
  if (pending_cr_) {
    pending_cr_ = false;
    out->push_back('\r');
    ++output_octets_;
  }
}

}  // namespace poplar::store
