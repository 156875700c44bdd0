// SASL mechanisms (RFC 4422) as sans-I/O step functions over decoded bytes, server and client
// side, one file per mechanism (Dovecot lib-sasl habit). The POP3 core (pop3/) runs a
// ServerMechanism inside the AUTH command (RFC 5034): it base64-decodes each client line,
// calls step(), and acts on the returned ServerStep. A mechanism never sees the passwd-file:
// when it needs a credential checked or looked up, it returns a request that the session
// turns into an auth action (auth/ runs it on the worker pool) and reports back.
//
// No I/O here. OpenSSL libcrypto (HMAC, PBKDF2, hashes, RAND via base/random) is the one
// allowed dependency. Thread-safety: one mechanism object per exchange, used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "base/secret.h"

namespace poplar::sasl {

enum class ScramHash { kSha1, kSha256 };

// What a SCRAM server needs of a user (RFC 5802 §3), as stored by Dovecot's {SCRAM-SHA-*}
// scheme or derived from a plaintext secret. Binary strings (not base64).
struct ScramCredentials {
  ScramHash hash = ScramHash::kSha256;
  uint32_t iterations = 4096;
  std::string salt;
  std::string stored_key;
  std::string server_key;
};

// Channel-binding data of the connection (RFC 5929 / RFC 9266), filled by the driver after the
// TLS handshake; empty when there is no TLS.
struct ChannelBindings {
  bool tls_active = false;
  std::string tls_exporter;          // 32 octets, label "EXPORTER-Channel-Binding" (RFC 9266)
  std::string tls_server_end_point;  // hash of the server certificate (RFC 5929 §4)
};

// Requests a server mechanism makes of the credential store.
struct PasswordCheck {  // PLAIN, LOGIN: verify like USER/PASS
  std::string authzid;  // empty or equal to authcid (no proxy authorization)
  std::string authcid;
  Secret password;
};
struct CramMd5Check {  // CRAM-MD5: verify hex(HMAC-MD5(secret, challenge)) for user
  std::string user;
  std::string challenge;
  std::string digest_hex;
};
struct ScramLookup {  // SCRAM-*: look up (or derive) the user's ScramCredentials
  std::string user;
  std::string authzid;
  ScramHash hash = ScramHash::kSha256;
};

struct ServerStep {
  enum class Kind {
    kChallenge,      // send "+ " base64(data); the next client line goes to step()
    kCheckPassword,  // verify `password_check`; its outcome is the exchange's outcome
    kCheckCramMd5,   // verify `cram_check`; its outcome is the exchange's outcome
    kLookupScram,    // look up `scram_lookup`, then call on_scram_credentials()
    kSuccess,        // authenticated as `user`; `data` (may be empty) is additional data
                     // with success, sent as a final "+ " challenge (RFC 5034 §4) before +OK
    kFailure,        // -ERR [AUTH]; `reason` is for the log only (never a secret). `data`,
                     // when not empty, is the mechanism's error for the client (SCRAM's
                     // server-final "e=invalid-proof", RFC 5802 §7); sending it as a final
                     // "+ " challenge before -ERR is allowed, leaving it out is also correct.
  };
  Kind kind = Kind::kFailure;
  std::string data;
  std::string user;
  std::string reason;
  PasswordCheck password_check;
  CramMd5Check cram_check;
  ScramLookup scram_lookup;
};

class ServerMechanism {
 public:
  virtual ~ServerMechanism() = default;
  virtual std::string_view name() const = 0;
  // initial_response: nullopt when the AUTH line had none; "" for "=" (RFC 5034 §4).
  virtual ServerStep start(std::optional<std::string_view> initial_response) = 0;
  // A decoded client response to the last kChallenge.
  virtual ServerStep step(std::string_view response) = 0;
  // The answer to kLookupScram. For an unknown user auth/ returns made-up credentials
  // (deterministic per user name) so the exchange fails at the proof, like a wrong password.
  virtual ServerStep on_scram_credentials(Result<ScramCredentials> credentials);
};

using ServerMechanismPtr = std::unique_ptr<ServerMechanism>;

struct ServerContext {
  std::string hostname;  // CRAM-MD5 challenge <random.time@hostname>
  Random* random = nullptr;
  int64_t unix_time = 0;
  ChannelBindings bindings;
  // True when SCRAM-*-PLUS is advertised on this connection: a client that sends "y" (it
  // supports binding but thinks we do not) is then a downgrade and must fail (RFC 5802 §6).
  bool plus_advertised = false;
};

// The client side (poplar fetch): the same step shape the other way round.
struct ClientStep {
  enum class Kind { kRespond, kDone, kFailure };
  Kind kind = Kind::kFailure;
  std::string response;  // kRespond: raw bytes (caller base64-encodes; "" is sent as empty,
                         // e.g. SCRAM's answer to the server-final once it has verified it)
  std::string error;     // kFailure: why (e.g. server signature mismatch: an impostor)
};

class ClientMechanism {
 public:
  virtual ~ClientMechanism() = default;
  virtual std::string_view name() const = 0;
  // The initial response to send with AUTH, if the mechanism has one.
  virtual std::optional<std::string> initial_response() = 0;
  // A decoded server challenge.
  virtual ClientStep step(std::string_view challenge) = 0;
  // After the server's +OK: false when the mechanism expected more (e.g. SCRAM's server
  // signature was never verified), which must be treated as a failed authentication.
  virtual bool complete() const = 0;
};

using ClientMechanismPtr = std::unique_ptr<ClientMechanism>;

struct ClientCredentials {
  std::string authcid;
  std::string authzid;
  Secret password;
};

}  // namespace poplar::sasl
