// SASL SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), with and without channel binding
// (-PLUS: tls-exporter, RFC 9266, preferred; tls-server-end-point, RFC 5929), server and client
// side, plus the credential arithmetic that auth/ uses for {SCRAM-SHA-*} entries.
//
// Server flow: start()/step(client-first) → kLookupScram (auth/ finds or derives the user's
// ScramCredentials; made-up ones for unknown users) → on_scram_credentials() → kChallenge
// (server-first) → step(client-final) → kSuccess with data "v=<ServerSignature>" (sent as a
// final "+ " challenge, RFC 5034 §4) or kFailure. Failures after the client-final carry the
// RFC 5802 §7 server-error ("e=invalid-proof", "e=channel-bindings-dont-match",
// "e=other-error") in `data`; sending it is optional, -ERR [AUTH] alone is enough.
//
// User names and passwords are SASLprep'd (RFC 5802 §2.2, §5.1). Proofs are compared in
// constant time. Never logs a password, a proof or a key; Status messages name the step only.
// Thread-safety: one mechanism object per exchange, one thread; the free functions are
// reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/random.h"
#include "base/result.h"
#include "base/secret.h"
#include "sasl/mechanism.h"

namespace poplar::sasl {

// RFC 7677 §4 / RFC 5802 §5.1: at least 4096 iterations.
inline constexpr uint32_t kScramDefaultIterations = 4096;
// A client refuses a server-first with more iterations than this: a hostile server could
// otherwise make it burn minutes of CPU.
inline constexpr uint32_t kScramClientMaxIterations = 1000000;
// Random bytes in a nonce (base64 of them is the nonce: printable, never ',').
inline constexpr size_t kScramNonceRandomBytes = 18;

// "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", ...
std::string_view scram_mechanism_name(ScramHash hash, bool plus);

// Normalize(password) of RFC 5802 §2.2: SASLprep as a query string; a password that SASLprep
// refuses (not UTF-8, prohibited code points) is used as it is, so that legacy 8-bit passwords
// still work (client and server side do the same).
Secret scram_normalize_password(const Secret& password);

// SaltedPassword, StoredKey and ServerKey for `password` (RFC 5802 §3). Errors: kInvalidInput
// (iterations 0 or above 2^31-1, empty salt), kTemporary (OpenSSL failed).
Result<ScramCredentials> derive_scram_credentials(ScramHash hash, const Secret& password,
                                                  std::string_view salt, uint32_t iterations);

// `fixed_nonce` is for test vectors only: the server's nonce part (appended to the client's), or
// the client's nonce. Empty means fresh from Random.
ServerMechanismPtr make_scram_server(ScramHash hash, bool plus, const ServerContext& context,
                                     std::string fixed_nonce = {});
ClientMechanismPtr make_scram_client(ScramHash hash, bool plus, ClientCredentials credentials,
                                     Random& random, const ChannelBindings& bindings,
                                     std::string fixed_nonce = {});

}  // namespace poplar::sasl
