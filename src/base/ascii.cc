// ASCII case; see ascii.h.
#include "base/ascii.h"

namespace poplar {
namespace {

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = upper(c);
  }
  return out;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace poplar
