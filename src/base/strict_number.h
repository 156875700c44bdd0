// Strict decimal parsing for numbers that come from peers and files: digits only, no sign, no
// spaces, no leading "+", no wrap-around. "LIST 4294967297" must be refused, not read as 1
// (popa3d DESIGN, "RFC compliance").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace poplar {

// Parses 1..20 ASCII digits into a uint64_t; nullopt on anything else or on overflow.
std::optional<uint64_t> parse_u64(std::string_view text);
// Same, but the value must fit in 32 bits.
std::optional<uint32_t> parse_u32(std::string_view text);

}  // namespace poplar
