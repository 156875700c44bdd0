// LineEndNormalizer. See client_line_ends.h.
//
// Thread-safety: see client_line_ends.h.
#include "pop3/client_line_ends.h"

#include <algorithm>
#include <cstring>

namespace poplar::pop3 {

void LineEndNormalizer::normalize(std::string_view in, std::string& out) {
  const char* p = in.data();
  const char* const end = p + in.size();
  while (p < end) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* stop = lf == nullptr ? end : lf;
    // The octets before the LF (or the rest of the input): copied as they are.
    if (stop > p) {
      if (line_octets_ == 0) {
        line_starts_with_dot_ = *p == '.';
      }
      line_octets_ = std::min<size_t>(line_octets_ + static_cast<size_t>(stop - p), 2);
      last_was_cr_ = stop[-1] == '\r';
      out.append(p, static_cast<size_t>(stop - p));
    }
    if (lf == nullptr) {
      return;
    }
    if (last_was_cr_) {
      out += '\n';
    } else {
      // A bare LF. A lone "." before it is data unless lenient: stuff it (the "." already
      // passed on becomes the stuffing dot, this one the data).
      if (!lenient_dot_lf_ && line_octets_ == 1 && line_starts_with_dot_) {
        out += '.';
      }
      out += "\r\n";
    }
    last_was_cr_ = false;
    line_octets_ = 0;
    line_starts_with_dot_ = false;
    p = lf + 1;
  }
}

}  // namespace poplar::pop3
