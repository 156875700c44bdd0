// Password schemes in Dovecot's "{SCHEME}data" notation: checking a candidate password against
// a stored value, making new stored values (the same strings `doveadm pw -s SCHEME` prints), and
// the derived values that challenge-response methods need (APOP, CRAM-MD5, SCRAM).
// docs/formats/passwd-file.md describes every scheme and its exact layout.
//
// Stored values are sensitive: a {PLAIN} value *is* a password, and a hash invites offline
// guessing. Nothing here puts a stored value or a password into a Status message; messages name
// the scheme at most.
//
// The crypt and argon2 schemes are slow on purpose (milliseconds to hundreds of milliseconds):
// call verify_password() and hash_password() from a worker thread, never from an event loop.
// Digest comparisons are constant-time (CRYPTO_memcmp).
//
// Thread-safety: every function is reentrant (crypt_rn with per-call state, libargon2, OpenSSL
// EVP); all may be called from any thread at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "base/secret.h"
#include "base/status.h"
#include "sasl/mechanism.h"

namespace poplar::auth {

// The scheme for new hashes when the admin names none. Argon2id is memory-hard, which makes
// GPU guessing expensive, and Dovecot 2.3+ verifies it.
inline constexpr std::string_view kDefaultScheme = "ARGON2ID";

// Cost parameters for new hashes. The defaults are for production; tests pass cheap values.
// Verification never uses these: it reads the parameters from the stored value.
struct HashOptions {
  // Argon2 (RFC 9106 §4 "second recommended option"): 64 MiB, 3 passes, 1 lane. About
  // 100-300 ms on a current core, which is why hashes are verified on the worker pool.
  uint32_t argon2_memory_kib = 65536;
  uint32_t argon2_iterations = 3;
  uint32_t argon2_parallelism = 1;
  // BLF-CRYPT (bcrypt) cost, log2 of the rounds. Dovecot's doveadm uses 5 by default; 10 is
  // the widespread modern minimum and still verifies in well under 100 ms.
  unsigned bcrypt_cost = 10;
  // SHA256-CRYPT / SHA512-CRYPT rounds. 5000 is the value implied when the hash has no
  // "rounds=" field, so the default output looks exactly like doveadm's.
  unsigned sha_crypt_rounds = 5000;
  // {SCRAM-SHA-1}/{SCRAM-SHA-256} PBKDF2 iterations: RFC 7677 §4's minimum, Dovecot's default.
  uint32_t scram_iterations = 4096;
};

// The SCRAM iteration counts accepted in stored values and for new hashes. Dovecot refuses
// fewer than 4096 (RFC 7677 §4); the upper bound is PBKDF2's (a signed int in OpenSSL).
inline constexpr uint32_t kMinScramIterations = 4096;
inline constexpr uint32_t kMaxScramIterations = 0x7fffffff;

// A stored value split at its scheme prefix. `scheme` is upper-cased (Dovecot matches scheme
// names case-insensitively); a value without a "{SCHEME}" prefix is a crypt(3) string, which is
// Dovecot's default for passwd-file, so its scheme is "CRYPT".
struct SchemeAndData {
  std::string scheme;
  std::string_view data;  // points into the value given to split_scheme()
};
SchemeAndData split_scheme(std::string_view stored);

// Every scheme name this module knows, aliases included, sorted. For `poplar hash --list`.
const std::vector<std::string_view>& supported_schemes();
// Case-insensitive.
bool is_supported_scheme(std::string_view scheme);
// True when the scheme keeps the password recoverable ({PLAIN}, {CLEARTEXT}).
bool is_plaintext_scheme(std::string_view scheme);
// True when verifying a password against the scheme costs microseconds (a comparison or one
// digest: PLAIN, CRAM-MD5, SHA256/512, SSHA256/512), so it may run on an event loop instead of
// the worker pool. The crypt family, bcrypt, Argon2 and SCRAM keys are deliberately slow.
bool is_cheap_to_verify(std::string_view scheme);

// Checks `password` against `stored` ("{SCHEME}data", or bare crypt(3) data).
// Returns OK on a match. Error codes:
//   kAuthFailed  the password does not match (also for an empty password or one with a NUL)
//   kUnavailable the scheme is unknown
//   kCorrupt     the stored data is malformed for its scheme (or its argon2 memory cost is above
//                kMaxArgon2MemoryKib, which would let a typo exhaust the server's memory)
//   kTemporary   out of memory while hashing
Status verify_password(std::string_view stored, const Secret& password);

// Upper bound on the argon2 memory cost that verify_password() accepts: 1 GiB.
inline constexpr uint32_t kMaxArgon2MemoryKib = 1024 * 1024;

// Makes a new stored value "{SCHEME}data" for `password` with fresh salt from `random`.
// `scheme` is case-insensitive; the prefix is written in upper case.
// Error codes:
//   kUnavailable  unknown scheme
//   kInvalidInput empty password, a NUL in it, a bad cost parameter, a {CRYPT} (DES) password
//                 longer than the 8 characters DES reads, or (for {PLAIN}) a ':' or a line
//                 end, which the passwd-file cannot hold
//   kTemporary    the hashing library failed (out of memory)
Result<std::string> hash_password(std::string_view scheme, const Secret& password, Random& random,
                                  const HashOptions& options = {});

// The cleartext password of a {PLAIN}/{CLEARTEXT} entry, which APOP and CRAM-MD5 need;
// nullopt for any other scheme.
std::optional<Secret> plaintext_secret(std::string_view stored);

// RFC 1939 §7 APOP: lowercase hex of MD5(timestamp || secret). The timestamp includes its
// angle brackets.
std::string apop_digest(std::string_view timestamp, std::string_view secret);

// RFC 2195 CRAM-MD5: lowercase hex of HMAC-MD5(key = password, text = challenge), computed from
// a {PLAIN}/{CLEARTEXT} entry or from a {CRAM-MD5}/{HMAC-MD5} entry's stored MD5 states.
// Error codes: kUnavailable (the scheme cannot serve CRAM-MD5), kCorrupt (malformed data).
Result<std::string> cram_md5_digest(std::string_view stored, std::string_view challenge);

// The SCRAM credentials (RFC 5802 §3) an entry can serve for `hash`:
//  - {SCRAM-SHA-1}/{SCRAM-SHA-256} (Dovecot's "<iter>,<salt>,<StoredKey>,<ServerKey>"): as
//    stored, when the hash matches;
//  - {PLAIN}/{CLEARTEXT}: derived with kScramDefaultIterations and a salt that is a hash of
//    `user` (stable across logins and restarts, independent of the password);
//  - any other scheme: kUnavailable (it keeps nothing SCRAM can use).
// Error codes: kUnavailable (see above), kCorrupt (malformed SCRAM value), kTemporary (OpenSSL).
Result<sasl::ScramCredentials> scram_credentials(std::string_view stored, sasl::ScramHash hash,
                                                 std::string_view user);

// A key that is equal for two stored values when verifying them costs the same: the scheme plus
// the cost parameters inside the data ("SHA512-CRYPT:$6", "BLF-CRYPT:$2y$10",
// "ARGON2ID:$argon2id$v=19$m=65536,t=3,p=1"). Used to pick a realistic dummy hash for unknown
// users. Contains no salt and no hash bytes.
std::string hash_cost_class(std::string_view stored);

}  // namespace poplar::auth
