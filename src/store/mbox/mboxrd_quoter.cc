// Streaming mboxrd quoting of ^>*From  lines; see mboxrd_quoter.h.
//
// Must never: depend on how the input is cut into chunks.
//
// Thread-safety: no shared state.
#include "store/mbox/mboxrd_quoter.h"

#include <cstring>

namespace poplar::store::mbox {
namespace {

constexpr std::string_view kFrom = "From ";

void append_greater_thans(uint64_t count, std::string* out) {
  // A line of a billion '>' must not need a billion-octet string at once.
  constexpr uint64_t kStep = 4096;
  while (count > 0) {
    uint64_t n = count < kStep ? count : kStep;
    out->append(static_cast<size_t>(n), '>');
    count -= n;
  }
}

}  // namespace

void MboxrdQuoter::release_held(std::string* out) {
  append_greater_thans(greater_thans_, out);
  out->append(kFrom.substr(0, matched_));
  greater_thans_ = 0;
  matched_ = 0;
  at_line_start_ = false;
}

void MboxrdQuoter::quote(std::string_view text, std::string* out) {
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    if (!at_line_start_) {
      // Inside a line: copy through its end in one piece.
      const void* found = std::memchr(p, '\n', static_cast<size_t>(end - p));
      if (found == nullptr) {
        out->append(p, static_cast<size_t>(end - p));
        return;
      }
      const char* lf = static_cast<const char*>(found);
      out->append(p, static_cast<size_t>(lf + 1 - p));
      p = lf + 1;
      at_line_start_ = true;
      continue;
    }
    const char c = *p;
    if (c == '>' && matched_ == 0) {
      ++greater_thans_;
      ++p;
      continue;
    }
    if (c == kFrom[matched_]) {
      ++matched_;
      ++p;
      if (matched_ == kFrom.size()) {
        out->push_back('>');
        release_held(out);  // the line is quoted; the rest of it is copied as is
      }
      continue;
    }
    // Not a From_ look-alike: give back what was held, then handle c inside the line (it may
    // be the LF that ends it).
    release_held(out);
  }
}

void MboxrdQuoter::finish(std::string* out) {
  if (at_line_start_) {
    release_held(out);
  }
  at_line_start_ = true;
}

}  // namespace poplar::store::mbox
