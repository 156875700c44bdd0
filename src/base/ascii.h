// ASCII case for protocol tokens (command names, SASL mechanisms, password schemes, capability
// tags): only a-z and A-Z change, whatever the locale, and UTF-8 octets pass through untouched.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace poplar {

std::string ascii_upper(std::string_view text);
// Equal when compared without ASCII case.
bool ascii_iequals(std::string_view a, std::string_view b);

}  // namespace poplar
