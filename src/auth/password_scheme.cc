#include "auth/password_scheme.h"

#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/md5.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/ascii.h"
#include "base/base64.h"
#include "base/hex.h"
#include "base/strict_number.h"
#include "sasl/scram.h"

namespace poplar::auth {
namespace {

enum class Kind {
  kPlain,
  kCrypt,
  kMd5Crypt,
  kSha256Crypt,
  kSha512Crypt,
  kBlfCrypt,
  kArgon2i,
  kArgon2id,
  kSha256,
  kSha512,
  kSsha256,
  kSsha512,
  kCramMd5,
  kScramSha1,
  kScramSha256,
};

struct SchemeInfo {
  std::string_view name;
  Kind kind;
};

// Sorted by name; aliases are separate rows (CLEARTEXT = PLAIN, HMAC-MD5 = CRAM-MD5, as in
// Dovecot).
constexpr SchemeInfo kSchemes[] = {
    {"ARGON2I", Kind::kArgon2i},
    {"ARGON2ID", Kind::kArgon2id},
    {"BLF-CRYPT", Kind::kBlfCrypt},
    {"CLEARTEXT", Kind::kPlain},
    {"CRAM-MD5", Kind::kCramMd5},
    {"CRYPT", Kind::kCrypt},
    {"HMAC-MD5", Kind::kCramMd5},
    {"MD5-CRYPT", Kind::kMd5Crypt},
    {"PLAIN", Kind::kPlain},
    {"SCRAM-SHA-1", Kind::kScramSha1},
    {"SCRAM-SHA-256", Kind::kScramSha256},
    {"SHA256", Kind::kSha256},
    {"SHA256-CRYPT", Kind::kSha256Crypt},
    {"SHA512", Kind::kSha512},
    {"SHA512-CRYPT", Kind::kSha512Crypt},
    {"SSHA256", Kind::kSsha256},
    {"SSHA512", Kind::kSsha512},
};

// Salt sizes for the schemes whose salt we choose ourselves. 16 bytes (128 bits) is what
// RFC 9106 §3.1 recommends for argon2 and is plenty for the salted SHA digests; Dovecot reads
// any salt length for {SSHA256}/{SSHA512}.
constexpr size_t kSaltBytes = 16;
// Domain separation for the salt derived for SCRAM from a {PLAIN} entry.
constexpr std::string_view kScramPlainSaltLabel = "poplar-scram-salt:";
// Argon2 output length: 32 bytes, as Dovecot (libsodium) and the argon2 CLI write it.
constexpr size_t kArgon2HashBytes = 32;
// Random bytes handed to crypt_gensalt_rn(); it uses what the method needs (12 for $6$).
constexpr size_t kCryptSaltEntropyBytes = 16;
// Traditional DES crypt(3) reads at most 8 characters.
constexpr size_t kDesCryptMaxPasswordBytes = 8;
// HMAC block size for MD5 (RFC 2104 §2: B = 64).
constexpr size_t kMd5BlockBytes = 64;
constexpr size_t kMd5DigestBytes = 16;
// Dovecot's CRAM-MD5 value: the outer then the inner MD5 state, 4 words each (RFC 2195 §2 notes
// that these intermediate states are a safer thing to store than the password).
constexpr size_t kCramContextBytes = 32;

std::optional<Kind> find_kind(std::string_view scheme) {
  std::string name = ascii_upper(scheme);
  for (const SchemeInfo& info : kSchemes) {
    if (info.name == name) {
      return info.kind;
    }
  }
  return std::nullopt;
}

bool contains_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

// Constant-time for equal lengths; the lengths compared here are public (digest sizes, or the
// length of a stored crypt string).
bool equal_ct(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status mismatch() { return Status::error(ErrorCode::kAuthFailed, "password mismatch"); }

Status malformed(std::string_view scheme) {
  return Status::corrupt("malformed " + std::string(scheme) + " value");
}

// --- base64 (RFC 4648 §4), as Dovecot writes digests. Encoding is base/base64's; decoding of
// stored values is lenient about missing padding, as Dovecot's is. ---

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::string> base64_decode_lenient(std::string_view text) {
  size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1 || (padding > 0 && (text.size() + padding) % 4 != 0)) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = base64_value(c);
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) {
    return std::nullopt;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]);
    int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out += static_cast<char>((hi << 4) | lo);
  }
  return out;
}

// --- message digests (OpenSSL EVP) ---

// Digest of the concatenation of `parts`; nullopt only when OpenSSL fails (out of memory).
std::optional<std::string> digest(const EVP_MD* md, std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    return std::nullopt;
  }
  for (std::string_view part : parts) {
    if (EVP_DigestUpdate(ctx.get(), part.data(), part.size()) != 1) {
      return std::nullopt;
    }
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out, &size) != 1) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

Status digest_failed() { return Status::temporary("message digest failed"); }

const EVP_MD* md_for(Kind kind) {
  switch (kind) {
    case Kind::kSha256:
    case Kind::kSsha256:
      return EVP_sha256();
    default:
      return EVP_sha512();
  }
}

Status verify_sha(Kind kind, std::string_view scheme, std::string_view data,
                  const Secret& password) {
  const EVP_MD* md = md_for(kind);
  size_t size = static_cast<size_t>(EVP_MD_get_size(md));
  // Dovecot writes base64 but also reads hex when the length says it is hex.
  std::optional<std::string> stored =
      data.size() == 2 * size ? hex_decode(data) : base64_decode_lenient(data);
  if (!stored || stored->size() != size) {
    return malformed(scheme);
  }
  std::optional<std::string> computed = digest(md, {password.view()});
  if (!computed) {
    return digest_failed();
  }
  return equal_ct(*computed, *stored) ? Status::ok() : mismatch();
}

// {SSHA256}/{SSHA512}: base64(H(password || salt) || salt).
Status verify_ssha(Kind kind, std::string_view scheme, std::string_view data,
                   const Secret& password) {
  const EVP_MD* md = md_for(kind);
  size_t size = static_cast<size_t>(EVP_MD_get_size(md));
  std::optional<std::string> stored = base64_decode_lenient(data);
  if (!stored || stored->size() <= size) {
    return malformed(scheme);
  }
  std::string_view salt = std::string_view(*stored).substr(size);
  std::optional<std::string> computed = digest(md, {password.view(), salt});
  if (!computed) {
    return digest_failed();
  }
  return equal_ct(*computed, std::string_view(*stored).substr(0, size)) ? Status::ok() : mismatch();
}

// --- crypt(3) family (libxcrypt) ---

// crypt_data is 32 KiB: too big for a worker thread's stack, so it lives on the heap, and it
// holds password-derived state, so it is wiped.
struct CryptScratch {
  crypt_data data{};
  ~CryptScratch() { secure_wipe(&data, sizeof data); }
};

Result<std::string> run_crypt(std::string_view scheme, const Secret& password,
                              std::string_view setting) {
  // Both strings go to C as NUL-terminated copies; the password copy is a Secret, so wiped.
  Secret phrase(password.view());
  std::string setting_z(setting);
  auto scratch = std::make_unique<CryptScratch>();
  errno = 0;
  const char* out =
      crypt_rn(phrase.view().data(), setting_z.c_str(), &scratch->data, sizeof scratch->data);
  if (out == nullptr) {
    if (errno == ENOMEM) {
      return Status::temporary("crypt: out of memory");
    }
    return malformed(scheme);
  }
  return std::string(out);
}

bool crypt_prefix_fits(Kind kind, std::string_view data) {
  switch (kind) {
    case Kind::kMd5Crypt:
      return data.starts_with("$1$");
    case Kind::kSha256Crypt:
      return data.starts_with("$5$");
    case Kind::kSha512Crypt:
      return data.starts_with("$6$");
    case Kind::kBlfCrypt:
      return data.starts_with("$2a$") || data.starts_with("$2b$") || data.starts_with("$2y$");
    default:
      return true;  // {CRYPT}: whatever crypt(3) understands, as in Dovecot
  }
}

Status verify_crypt(Kind kind, std::string_view scheme, std::string_view data,
                    const Secret& password) {
  if (data.empty() || contains_nul(data) || !crypt_prefix_fits(kind, data)) {
    return malformed(scheme);
  }
  // crypt(3) stops at a NUL, so "abc\0xyz" would otherwise pass as "abc".
  if (contains_nul(password.view())) {
    return mismatch();
  }
  Result<std::string> computed = run_crypt(scheme, password, data);
  if (!computed) {
    return computed.status();
  }
  return equal_ct(*computed, data) ? Status::ok() : mismatch();
}

Result<std::string> generate_crypt(const char* prefix, unsigned long count, const Secret& password,
                                   Random& random) {
  std::array<uint8_t, kCryptSaltEntropyBytes> entropy{};
  random.fill(entropy);
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  const char* made = crypt_gensalt_rn(prefix, count, reinterpret_cast<const char*>(entropy.data()),
                                      static_cast<int>(entropy.size()), setting, sizeof setting);
  if (made == nullptr) {
    return Status::invalid_input("crypt: bad cost parameter");
  }
  return run_crypt("crypt", password, made);
}

// --- argon2 (libargon2, PHC string format "$argon2id$v=19$m=..,t=..,p=..$salt$hash") ---

argon2_type argon2_type_for(Kind kind) { return kind == Kind::kArgon2id ? Argon2_id : Argon2_i; }

// The m= (memory in KiB) parameter of a PHC argon2 string.
std::optional<uint32_t> argon2_memory_kib(std::string_view data) {
  size_t pos = data.find("$m=");
  if (pos == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = data.substr(pos + 3);
  return parse_u32(rest.substr(0, rest.find(',')));
}

Status verify_argon2(Kind kind, std::string_view scheme, std::string_view data,
                     const Secret& password) {
  std::string_view prefix = kind == Kind::kArgon2id ? "$argon2id$" : "$argon2i$";
  if (!data.starts_with(prefix) || contains_nul(data)) {
    return malformed(scheme);
  }
  std::optional<uint32_t> memory = argon2_memory_kib(data);
  if (!memory) {
    return malformed(scheme);
  }
  if (*memory > kMaxArgon2MemoryKib) {
    return Status::corrupt(std::string(scheme) + " memory cost above the limit");
  }
  std::string encoded(data);
  int rc = argon2_verify(encoded.c_str(), password.view().data(), password.size(),
                         argon2_type_for(kind));
  switch (rc) {
    case ARGON2_OK:
      return Status::ok();
    case ARGON2_VERIFY_MISMATCH:
      return mismatch();
    case ARGON2_MEMORY_ALLOCATION_ERROR:
      return Status::temporary(std::string(scheme) + ": out of memory");
    default:
      return Status::corrupt("malformed " + std::string(scheme) +
                             " value: " + argon2_error_message(rc));
  }
}

Result<std::string> generate_argon2(Kind kind, const Secret& password, Random& random,
                                    const HashOptions& options) {
  std::array<uint8_t, kSaltBytes> salt{};
  random.fill(salt);
  argon2_type type = argon2_type_for(kind);
  size_t encoded_size =
      argon2_encodedlen(options.argon2_iterations, options.argon2_memory_kib,
                        options.argon2_parallelism, kSaltBytes, kArgon2HashBytes, type);
  std::string encoded(encoded_size, '\0');
  std::array<uint8_t, kArgon2HashBytes> raw{};
  int rc =
      argon2_hash(options.argon2_iterations, options.argon2_memory_kib, options.argon2_parallelism,
                  password.view().data(), password.size(), salt.data(), salt.size(), raw.data(),
                  raw.size(), encoded.data(), encoded.size(), type, ARGON2_VERSION_13);
  secure_wipe(raw.data(), raw.size());
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return Status::temporary("argon2: out of memory");
  }
  if (rc != ARGON2_OK) {
    return Status::invalid_input(std::string("argon2: ") + argon2_error_message(rc));
  }
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

// --- CRAM-MD5 / HMAC-MD5 intermediate states ---
//
// HMAC-MD5(K, text) = MD5((K ^ opad) || MD5((K ^ ipad) || text)) (RFC 2104 §2). Both inner
// calls start by absorbing exactly one 64-byte block that depends only on the key, so the MD5
// chaining state after that block can stand in for the key. Dovecot stores these two states:
// the outer state's words A, B, C, D, then the inner state's, each word little-endian, as 64
// lowercase hex digits. EVP offers no access to the chaining state, hence the low-level MD5
// API, which OpenSSL 3 marks deprecated; the warning is silenced for this block only.

using CramContexts = std::array<uint8_t, kCramContextBytes>;

void put_le32(uint8_t* out, uint32_t v) {
  out[0] = static_cast<uint8_t>(v);
  out[1] = static_cast<uint8_t>(v >> 8);
  out[2] = static_cast<uint8_t>(v >> 16);
  out[3] = static_cast<uint8_t>(v >> 24);
}

uint32_t get_le32(const uint8_t* in) {
  return static_cast<uint32_t>(in[0]) | (static_cast<uint32_t>(in[1]) << 8) |
         (static_cast<uint32_t>(in[2]) << 16) | (static_cast<uint32_t>(in[3]) << 24);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

std::optional<CramContexts> cram_md5_contexts(std::string_view secret) {
  std::array<uint8_t, kMd5BlockBytes> key{};
  if (secret.size() > kMd5BlockBytes) {
    // RFC 2104 §2: a key longer than B is hashed first.
    std::optional<std::string> hashed = digest(EVP_md5(), {secret});
    if (!hashed) {
      return std::nullopt;
    }
    std::memcpy(key.data(), hashed->data(), hashed->size());
    secure_wipe(hashed->data(), hashed->size());
  } else {
    std::memcpy(key.data(), secret.data(), secret.size());
  }
  std::array<uint8_t, kMd5BlockBytes> pad{};
  MD5_CTX inner;
  MD5_CTX outer;
  for (size_t i = 0; i < kMd5BlockBytes; ++i) {
    pad[i] = key[i] ^ 0x36;
  }
  MD5_Init(&inner);
  MD5_Update(&inner, pad.data(), pad.size());
  for (size_t i = 0; i < kMd5BlockBytes; ++i) {
    pad[i] = key[i] ^ 0x5c;
  }
  MD5_Init(&outer);
  MD5_Update(&outer, pad.data(), pad.size());

  CramContexts out{};
  const uint32_t words[8] = {outer.A, outer.B, outer.C, outer.D,
                             inner.A, inner.B, inner.C, inner.D};
  for (size_t i = 0; i < 8; ++i) {
    put_le32(out.data() + 4 * i, words[i]);
  }
  secure_wipe(key.data(), key.size());
  secure_wipe(pad.data(), pad.size());
  secure_wipe(&inner, sizeof inner);
  secure_wipe(&outer, sizeof outer);
  return out;
}

// An MD5 context that has absorbed exactly one block (512 bits) and whose chaining state is
// the four little-endian words at `words`.
MD5_CTX resume_md5(const uint8_t* words) {
  MD5_CTX ctx;
  MD5_Init(&ctx);
  ctx.A = get_le32(words);
  ctx.B = get_le32(words + 4);
  ctx.C = get_le32(words + 8);
  ctx.D = get_le32(words + 12);
  ctx.Nl = kMd5BlockBytes * 8;
  ctx.Nh = 0;
  ctx.num = 0;
  return ctx;
}

std::string hmac_md5_from_contexts(const CramContexts& contexts, std::string_view challenge) {
  MD5_CTX inner = resume_md5(contexts.data() + 16);
  MD5_Update(&inner, challenge.data(), challenge.size());
  unsigned char inner_digest[kMd5DigestBytes];
  MD5_Final(inner_digest, &inner);
  MD5_CTX outer = resume_md5(contexts.data());
  MD5_Update(&outer, inner_digest, sizeof inner_digest);
  unsigned char result[kMd5DigestBytes];
  MD5_Final(result, &outer);
  return to_hex(std::string_view(reinterpret_cast<const char*>(result), sizeof result));
}

#pragma GCC diagnostic pop

std::optional<CramContexts> parse_cram_contexts(std::string_view data) {
  std::optional<std::string> raw =
      data.size() == 2 * kCramContextBytes ? hex_decode(data) : std::nullopt;
  if (!raw) {
    return std::nullopt;
  }
  CramContexts out{};
  std::memcpy(out.data(), raw->data(), out.size());
  return out;
}

Status verify_cram_md5(std::string_view scheme, std::string_view data, const Secret& password) {
  std::optional<CramContexts> stored = parse_cram_contexts(data);
  if (!stored) {
    return malformed(scheme);
  }
  std::optional<CramContexts> computed = cram_md5_contexts(password.view());
  if (!computed) {
    return digest_failed();
  }
  bool same = CRYPTO_memcmp(stored->data(), computed->data(), kCramContextBytes) == 0;
  secure_wipe(computed->data(), computed->size());
  return same ? Status::ok() : mismatch();
}

// --- SCRAM (RFC 5802 §3) in Dovecot's layout: "<iterations>,<salt>,<StoredKey>,<ServerKey>",
// the last three in base64. ---

sasl::ScramHash scram_hash_for(Kind kind) {
  return kind == Kind::kScramSha1 ? sasl::ScramHash::kSha1 : sasl::ScramHash::kSha256;
}

size_t scram_key_bytes(sasl::ScramHash hash) { return hash == sasl::ScramHash::kSha1 ? 20 : 32; }

Result<sasl::ScramCredentials> parse_scram(Kind kind, std::string_view scheme,
                                           std::string_view data) {
  std::string_view fields[4];
  size_t start = 0;
  for (size_t i = 0; i < 4; ++i) {
    size_t comma = data.find(',', start);
    if ((i < 3) == (comma == std::string_view::npos)) {
      return malformed(scheme);  // not exactly four fields
    }
    fields[i] = data.substr(start, i < 3 ? comma - start : std::string_view::npos);
    start = comma + 1;
  }
  sasl::ScramCredentials out;
  out.hash = scram_hash_for(kind);
  std::optional<uint32_t> iterations = parse_u32(fields[0]);
  std::optional<std::string> salt = base64_decode_lenient(fields[1]);
  std::optional<std::string> stored_key = base64_decode_lenient(fields[2]);
  std::optional<std::string> server_key = base64_decode_lenient(fields[3]);
  size_t key_bytes = scram_key_bytes(out.hash);
  // Dovecot refuses fewer than 4096 iterations (RFC 7677 §4's floor); so do we.
  if (!iterations || *iterations < kMinScramIterations || *iterations > kMaxScramIterations ||
      !salt || salt->empty() || !stored_key || stored_key->size() != key_bytes || !server_key ||
      server_key->size() != key_bytes) {
    return malformed(scheme);
  }
  out.iterations = *iterations;
  out.salt = std::move(*salt);
  out.stored_key = std::move(*stored_key);
  out.server_key = std::move(*server_key);
  return out;
}

Status verify_scram(Kind kind, std::string_view scheme, std::string_view data,
                    const Secret& password) {
  Result<sasl::ScramCredentials> stored = parse_scram(kind, scheme, data);
  if (!stored) {
    return stored.status();
  }
  Result<sasl::ScramCredentials> computed =
      sasl::derive_scram_credentials(stored->hash, password, stored->salt, stored->iterations);
  if (!computed) {
    return computed.status().code() == ErrorCode::kTemporary ? computed.status() : mismatch();
  }
  // Both keys, both always compared: a value whose ServerKey was tampered with must not
  // verify either.
  bool stored_same = equal_ct(computed->stored_key, stored->stored_key);
  bool server_same = equal_ct(computed->server_key, stored->server_key);
  bool same = stored_same && server_same;
  return same ? Status::ok() : mismatch();
}

Result<std::string> generate_scram(Kind kind, const Secret& password, Random& random,
                                   const HashOptions& options) {
  if (options.scram_iterations < kMinScramIterations ||
      options.scram_iterations > kMaxScramIterations) {
    return Status::invalid_input("SCRAM: iteration count out of range");
  }
  std::string salt(kSaltBytes, '\0');
  random.fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(salt.data()), salt.size()));
  Result<sasl::ScramCredentials> keys = sasl::derive_scram_credentials(
      scram_hash_for(kind), password, salt, options.scram_iterations);
  if (!keys) {
    return keys.status();
  }
  return std::to_string(keys->iterations) + "," + base64_encode(keys->salt) + "," +
         base64_encode(keys->stored_key) + "," + base64_encode(keys->server_key);
}

// The data part of a new stored value (everything after "{SCHEME}").
Result<std::string> generate_data(Kind kind, const Secret& password, Random& random,
                                  const HashOptions& options) {
  switch (kind) {
    case Kind::kPlain:
      if (password.view().find_first_of(":\r\n") != std::string_view::npos) {
        return Status::invalid_input(
            "a {PLAIN} password cannot contain ':' or a line end (passwd-file syntax)");
      }
      return std::string(password.view());
    case Kind::kCrypt:
      // Traditional DES crypt silently ignores everything after the 8th character; refuse
      // rather than store a hash that accepts "password-anything" for "password".
      if (password.size() > kDesCryptMaxPasswordBytes) {
        return Status::invalid_input(
            "{CRYPT} (DES) uses only 8 characters of a password; choose another scheme");
      }
      return generate_crypt("", 0, password, random);
    case Kind::kMd5Crypt:
      return generate_crypt("$1$", 0, password, random);
    case Kind::kSha256Crypt:
      return generate_crypt("$5$", options.sha_crypt_rounds, password, random);
    case Kind::kSha512Crypt:
      return generate_crypt("$6$", options.sha_crypt_rounds, password, random);
    case Kind::kBlfCrypt:
      return generate_crypt("$2y$", options.bcrypt_cost, password, random);
    case Kind::kArgon2i:
    case Kind::kArgon2id:
      return generate_argon2(kind, password, random, options);
    case Kind::kSha256:
    case Kind::kSha512: {
      std::optional<std::string> d = digest(md_for(kind), {password.view()});
      if (!d) {
        return digest_failed();
      }
      return base64_encode(*d);
    }
    case Kind::kSsha256:
    case Kind::kSsha512: {
      std::array<uint8_t, kSaltBytes> salt_bytes{};
      random.fill(salt_bytes);
      std::string_view salt(reinterpret_cast<const char*>(salt_bytes.data()), salt_bytes.size());
      std::optional<std::string> d = digest(md_for(kind), {password.view(), salt});
      if (!d) {
        return digest_failed();
      }
      return base64_encode(*d + std::string(salt));
    }
    case Kind::kCramMd5: {
      std::optional<CramContexts> contexts = cram_md5_contexts(password.view());
      if (!contexts) {
        return digest_failed();
      }
      return to_hex(
          std::string_view(reinterpret_cast<const char*>(contexts->data()), contexts->size()));
    }
    case Kind::kScramSha1:
    case Kind::kScramSha256:
      return generate_scram(kind, password, random, options);
  }
  return Status::error(ErrorCode::kUnavailable, "unknown password scheme");
}

}  // namespace

SchemeAndData split_scheme(std::string_view stored) {
  if (stored.starts_with('{')) {
    size_t close = stored.find('}');
    if (close != std::string_view::npos) {
      return {ascii_upper(stored.substr(1, close - 1)), stored.substr(close + 1)};
    }
  }
  return {"CRYPT", stored};
}

const std::vector<std::string_view>& supported_schemes() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const SchemeInfo& info : kSchemes) {
      v.push_back(info.name);
    }
    return v;
  }();
  return names;
}

bool is_supported_scheme(std::string_view scheme) { return find_kind(scheme).has_value(); }

bool is_plaintext_scheme(std::string_view scheme) { return find_kind(scheme) == Kind::kPlain; }

bool is_cheap_to_verify(std::string_view scheme) {
  std::optional<Kind> kind = find_kind(scheme);
  if (!kind) {
    return true;  // unknown schemes are refused at once
  }
  switch (*kind) {
    case Kind::kPlain:
    case Kind::kCramMd5:
    case Kind::kSha256:
    case Kind::kSha512:
    case Kind::kSsha256:
    case Kind::kSsha512:
      return true;
    default:
      return false;
  }
}

Status verify_password(std::string_view stored, const Secret& password) {
  SchemeAndData parts = split_scheme(stored);
  std::optional<Kind> kind = find_kind(parts.scheme);
  if (!kind) {
    return Status::error(ErrorCode::kUnavailable, "unknown password scheme {" + parts.scheme + "}");
  }
  if (password.empty()) {
    return Status::error(ErrorCode::kAuthFailed, "empty password");
  }
  const std::string& scheme = parts.scheme;
  std::string_view data = parts.data;
  switch (*kind) {
    case Kind::kPlain: {
      // Compare digests rather than the strings, so that the time taken does not depend on
      // where the first difference is, nor (beyond hashing) on the stored length.
      std::optional<std::string> a = digest(EVP_sha256(), {data});
      std::optional<std::string> b = digest(EVP_sha256(), {password.view()});
      if (!a || !b) {
        return digest_failed();
      }
      return equal_ct(*a, *b) ? Status::ok() : mismatch();
    }
    case Kind::kCrypt:
    case Kind::kMd5Crypt:
    case Kind::kSha256Crypt:
    case Kind::kSha512Crypt:
    case Kind::kBlfCrypt:
      return verify_crypt(*kind, scheme, data, password);
    case Kind::kArgon2i:
    case Kind::kArgon2id:
      return verify_argon2(*kind, scheme, data, password);
    case Kind::kSha256:
    case Kind::kSha512:
      return verify_sha(*kind, scheme, data, password);
    case Kind::kSsha256:
    case Kind::kSsha512:
      return verify_ssha(*kind, scheme, data, password);
    case Kind::kCramMd5:
      return verify_cram_md5(scheme, data, password);
    case Kind::kScramSha1:
    case Kind::kScramSha256:
      return verify_scram(*kind, scheme, data, password);
  }
  return Status::error(ErrorCode::kUnavailable, "unknown password scheme {" + scheme + "}");
}

Result<std::string> hash_password(std::string_view scheme, const Secret& password, Random& random,
                                  const HashOptions& options) {
  std::optional<Kind> kind = find_kind(scheme);
  if (!kind) {
    return Status::error(ErrorCode::kUnavailable,
                         "unknown password scheme {" + ascii_upper(scheme) + "}");
  }
  if (password.empty()) {
    return Status::invalid_input("empty password");
  }
  if (contains_nul(password.view())) {
    return Status::invalid_input("password contains a NUL byte");
  }
  Result<std::string> data = generate_data(*kind, password, random, options);
  if (!data) {
    return data.status();
  }
  return "{" + ascii_upper(scheme) + "}" + *data;
}

std::optional<Secret> plaintext_secret(std::string_view stored) {
  SchemeAndData parts = split_scheme(stored);
  if (find_kind(parts.scheme) != Kind::kPlain) {
    return std::nullopt;
  }
  return Secret(parts.data);
}

std::string apop_digest(std::string_view timestamp, std::string_view secret) {
  std::optional<std::string> d = digest(EVP_md5(), {timestamp, secret});
  if (!d) {
    // MD5 over two short strings fails only if OpenSSL cannot allocate a context; an empty
    // string never equals a 32-digit client digest, so the login simply fails.
    return std::string();
  }
  return to_hex(*d);
}

Result<std::string> cram_md5_digest(std::string_view stored, std::string_view challenge) {
  SchemeAndData parts = split_scheme(stored);
  std::optional<Kind> kind = find_kind(parts.scheme);
  std::optional<CramContexts> contexts;
  if (kind == Kind::kPlain) {
    contexts = cram_md5_contexts(parts.data);
    if (!contexts) {
      return digest_failed();
    }
  } else if (kind == Kind::kCramMd5) {
    contexts = parse_cram_contexts(parts.data);
    if (!contexts) {
      return malformed(parts.scheme);
    }
  } else {
    return Status::error(ErrorCode::kUnavailable,
                         "scheme {" + parts.scheme + "} cannot serve CRAM-MD5");
  }
  std::string result = hmac_md5_from_contexts(*contexts, challenge);
  secure_wipe(contexts->data(), contexts->size());
  return result;
}

Result<sasl::ScramCredentials> scram_credentials(std::string_view stored, sasl::ScramHash hash,
                                                 std::string_view user) {
  SchemeAndData parts = split_scheme(stored);
  std::optional<Kind> kind = find_kind(parts.scheme);
  if (kind == Kind::kScramSha1 || kind == Kind::kScramSha256) {
    if (scram_hash_for(*kind) != hash) {
      return Status::error(ErrorCode::kUnavailable,
                           "scheme {" + parts.scheme + "} cannot serve this SCRAM hash");
    }
    return parse_scram(*kind, parts.scheme, parts.data);
  }
  if (kind != Kind::kPlain) {
    return Status::error(ErrorCode::kUnavailable,
                         "scheme {" + parts.scheme + "} cannot serve SCRAM");
  }
  if (parts.data.empty()) {
    return Status::error(ErrorCode::kUnavailable, "empty password cannot serve SCRAM");
  }
  // A {PLAIN} entry has no salt: derive one that stays the same from login to login (a client
  // may cache SaltedPassword) but depends only on the user name, never on the password, since
  // the salt is sent to anyone who asks (server-first comes before any proof).
  std::optional<std::string> salt = digest(EVP_sha256(), {kScramPlainSaltLabel, user});
  if (!salt) {
    return digest_failed();
  }
  salt->resize(kSaltBytes);
  return sasl::derive_scram_credentials(hash, Secret(parts.data), *salt,
                                        sasl::kScramDefaultIterations);
}

std::string hash_cost_class(std::string_view stored) {
  SchemeAndData parts = split_scheme(stored);
  std::string key = parts.scheme;
  std::string_view data = parts.data;
  if (!data.starts_with('$')) {
    return key;  // fixed cost: DES crypt, digests, CRAM-MD5, PLAIN
  }
  // Split "$id$param...$salt$hash" into its '$'-separated fields.
  std::vector<std::string_view> fields;
  size_t start = 1;
  while (true) {
    size_t end = data.find('$', start);
    fields.push_back(data.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  // bcrypt ("$2y$10$<salt+hash>") keeps salt and hash in one field; the others end in
  // "$salt$hash".
  size_t drop = fields[0].starts_with('2') ? 1 : 2;
  size_t keep = fields.size() > drop ? fields.size() - drop : 0;
  key += ':';
  for (size_t i = 0; i < keep; ++i) {
    key += '$';
    key += fields[i];
  }
  return key;
}

}  // namespace poplar::auth
