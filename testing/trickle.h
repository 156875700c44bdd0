// Feeding parsers in pieces (Dovecot's trickle stream, Beast's parsegrind): every parser test
// feeds its input one byte at a time AND split at every offset, and must get the same result.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace poplar::testing {

// Calls feed(piece) for every byte of input, one at a time.
inline void feed_bytewise(std::string_view input,
                          const std::function<void(std::string_view)>& feed) {
  for (size_t i = 0; i < input.size(); ++i) {
    feed(input.substr(i, 1));
  }
}

// Returns every way to cut input in two: {input[0,k), input[k,n)} for k = 0..n.
inline std::vector<std::vector<std::string_view>> all_two_way_splits(std::string_view input) {
  std::vector<std::vector<std::string_view>> out;
  for (size_t k = 0; k <= input.size(); ++k) {
    out.push_back({input.substr(0, k), input.substr(k)});
  }
  return out;
}

}  // namespace poplar::testing
