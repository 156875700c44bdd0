// OpenSSL wrappers for the mechanisms; see crypto.h. Never logs.
#include "sasl/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace poplar::sasl::internal {
namespace {

const EVP_MD* md(Digest digest) {
  switch (digest) {
    case Digest::kMd5:
      return EVP_md5();
    case Digest::kSha1:
      return EVP_sha1();
    case Digest::kSha256:
      return EVP_sha256();
  }
  return EVP_sha256();
}

}  // namespace

Digest digest_for(ScramHash hash) {
  return hash == ScramHash::kSha1 ? Digest::kSha1 : Digest::kSha256;
}

size_t digest_size(Digest digest) { return static_cast<size_t>(EVP_MD_get_size(md(digest))); }

std::optional<std::string> hmac(Digest digest, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // HMAC() wants a non-null key pointer even for an empty key.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  if (HMAC(md(digest), key_ptr, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &size) == nullptr) {
    return std::nullopt;
  }
  std::string result(reinterpret_cast<const char*>(out), size);
  OPENSSL_cleanse(out, sizeof out);
  return result;
}

std::optional<std::string> hash(Digest digest, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out, &size, md(digest), nullptr) != 1) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

std::optional<std::string> pbkdf2(Digest digest, std::string_view password, std::string_view salt,
                                  uint32_t iterations) {
  if (iterations == 0 || iterations > 0x7fffffffu) {
    return std::nullopt;
  }
  std::string out(digest_size(digest), '\0');
  static const char kEmpty = 0;
  const char* pass_ptr = password.empty() ? &kEmpty : password.data();
  if (PKCS5_PBKDF2_HMAC(pass_ptr, static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), md(digest),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    return std::nullopt;
  }
  return out;
}

bool equal_ct(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace poplar::sasl::internal
