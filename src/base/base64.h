// Strict base64 (RFC 4648 §4, the standard alphabet with '=' padding) for SASL exchanges
// (RFC 5034 §4 puts every challenge and response in base64) and for SCRAM attributes.
//
// Decoding is strict on purpose: a peer's bytes must have exactly one spelling, so it rejects
// characters outside the alphabet, whitespace and line breaks, missing or excess padding, and
// non-zero bits in the last character (RFC 4648 §3.5, "canonical encoding"). It never accepts
// something a stricter peer would reject. Lenient decoding of stored hashes (Dovecot writes some
// without padding) stays with the password schemes in auth/.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace poplar {

std::string base64_encode(std::string_view bytes);

// nullopt when `text` is not the canonical base64 of some byte string. "" decodes to "".
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace poplar
