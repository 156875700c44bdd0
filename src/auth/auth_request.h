// The values that cross between the protocol core (pop3/) and authentication (auth/):
// pop3 emits an AuthRequest as an action; the network driver runs Authenticator on a worker
// thread (hashes are slow on purpose) and hands the AuthResult back to the session.
// Plain data, no behaviour.
#pragma once

#include <cstdint>
#include <string>

#include "base/secret.h"
#include "base/status.h"

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
  kUserPass,  // USER name / PASS password (RFC 1939 §7)
  kApop,      // APOP name digest (RFC 1939 §7): digest = hex(MD5(timestamp || secret))
};

struct AuthRequest {
  AuthMethod method = AuthMethod::kUserPass;
  std::string user;            // untrusted, as the client sent it
  Secret password;             // kUserPass
  std::string apop_timestamp;  // kApop: the <...> from our greeting, brackets included
  std::string apop_digest;     // kApop: 32 hex digits as the client sent them
  std::string remote_ip;       // for logs and throttling
};

struct AuthResult {
  // kOk; kAuthFailed (unknown user, wrong password, scheme cannot serve the method: all look
  // the same to the client); kTemporary (passwd-file unreadable); kPermanent (account broken).
  Status status;
  UserRecord user;  // filled when status is OK
};

}  // namespace poplar::auth
