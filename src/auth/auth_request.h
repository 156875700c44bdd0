// The values that cross between the protocol core (pop3/) and authentication (auth/):
// pop3 emits an AuthRequest as an action; the network driver runs Authenticator on a worker
// thread (hashes are slow on purpose) and hands the AuthResult back to the session.
// Plain data, no behaviour.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/secret.h"
#include "base/status.h"
#include "sasl/mechanism.h"

namespace poplar::auth {

// One user as the passwd-file describes it (Dovecot format: user:password:uid:gid:gecos:home:
// shell:extra). Fields that the file leaves empty are empty / 0 here.
struct UserRecord {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
  // From the extra field `userdb_mail=...`; empty means "use [mail] location from the config".
  std::string mail;
};

enum class AuthMethod {
  kUserPass,     // USER name / PASS password (RFC 1939 §7); also SASL PLAIN and LOGIN
  kApop,         // APOP name digest (RFC 1939 §7): digest = hex(MD5(timestamp || secret))
  kCramMd5,      // SASL CRAM-MD5 (RFC 2195): digest = hex(HMAC-MD5(secret, challenge))
  kScramLookup,  // SASL SCRAM-*: fetch the user's ScramCredentials; the proof is checked by
                 // the mechanism in pop3/. Unknown users get made-up credentials (deterministic
                 // per name) and status kAuthFailed, so the exchange fails at the proof.
};

struct AuthRequest {
  AuthMethod method = AuthMethod::kUserPass;
  std::string user;            // untrusted, as the client sent it
  Secret password;             // kUserPass
  std::string apop_timestamp;  // kApop: the <...> from our greeting, brackets included
  std::string apop_digest;     // kApop: 32 hex digits as the client sent them
  std::string mechanism;       // the SASL mechanism for logs ("PLAIN", "SCRAM-SHA-256"...)
  std::string cram_challenge;  // kCramMd5
  std::string cram_digest;     // kCramMd5: 32 hex digits
  sasl::ScramHash scram_hash = sasl::ScramHash::kSha256;  // kScramLookup
  std::string remote_ip;                                  // for logs and throttling
};

struct AuthResult {
  // kOk; kAuthFailed (unknown user, wrong password, scheme cannot serve the method: all look
  // the same to the client); kTemporary (passwd-file unreadable); kPermanent (account broken).
  Status status;
  UserRecord user;  // filled when status is OK
  // kScramLookup: the credentials to run the exchange with (real or made-up, see above).
  std::optional<sasl::ScramCredentials> scram;
};

}  // namespace poplar::auth
