// Maildir UIDL derivation; the rules are in uidl.h.
//
// Must never: use anything but the base name and occurrence number.
//
// Thread-safety: pure functions (OpenSSL's one-shot digest is thread-safe).
#include "store/maildir/uidl.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "base/hex.h"
#include "store/maildir/octet_scan.h"

namespace poplar::store::maildir {
namespace {

// 32 hex digits = 128 bits: collisions among the messages of one maildrop are out of reach,
// and the UIDL stays short (35–45 characters with an occurrence suffix).
constexpr size_t kHashHexDigits = 32;

std::string hashed_uidl(std::string_view base) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (EVP_Digest(base.data(), base.size(), digest, &digest_length, EVP_sha256(), nullptr) != 1) {
    // SHA-256 fails only without memory; nothing sensible can continue.
    std::abort();
  }
  std::string hex = to_hex(std::string_view(reinterpret_cast<const char*>(digest), digest_length));
  hex.resize(kHashHexDigits);
  return ":" + hex;
}

}  // namespace

bool uidl_is_base_name(std::string_view base, uint32_t occurrence) {
  // is_valid_uidl, eight octets per step: this runs for every message at every login.
  return occurrence <= 1 && !base.empty() && base.size() <= kMaxUidlLength &&
         all_visible_ascii(base);
}

std::string uidl_for_base_name(std::string_view base, uint32_t occurrence) {
  if (uidl_is_base_name(base, occurrence)) {
    return std::string(base);
  }
  if (occurrence <= 1) {
    return hashed_uidl(base);
  }
  return hashed_uidl(base) + ":" + std::to_string(occurrence);
}

}  // namespace poplar::store::maildir
