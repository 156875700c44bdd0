// The few OpenSSL libcrypto primitives the mechanisms need (HMAC, hashes, PBKDF2, constant-time
// compare), behind std::string-in/std::string-out helpers. Internal to sasl/ (and used by
// auth/ through scram.h only).
//
// Results may be key material: callers wipe them (secure_wipe) when they are secrets.
// Thread-safety: reentrant (OpenSSL 3 one-shot functions with per-call contexts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sasl/mechanism.h"

namespace poplar::sasl::internal {

enum class Digest { kMd5, kSha1, kSha256 };

Digest digest_for(ScramHash hash);
size_t digest_size(Digest digest);

// nullopt only when OpenSSL fails (out of memory).
std::optional<std::string> hmac(Digest digest, std::string_view key, std::string_view data);
std::optional<std::string> hash(Digest digest, std::string_view data);
// PBKDF2-HMAC (RFC 8018 §5.2) with one output block: SCRAM's Hi() (RFC 5802 §2.2).
std::optional<std::string> pbkdf2(Digest digest, std::string_view password, std::string_view salt,
                                  uint32_t iterations);

// Constant-time for equal lengths; lengths are public here (digest sizes).
bool equal_ct(std::string_view a, std::string_view b);

}  // namespace poplar::sasl::internal
