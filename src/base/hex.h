// Lowercase hex encoding (APOP and CRAM-MD5 digests, random tokens).
#pragma once

#include <string>
#include <string_view>

namespace poplar {

std::string to_hex(std::string_view bytes);

}  // namespace poplar
