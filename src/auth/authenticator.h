// Authenticator: answers an AuthRequest (USER/PASS and SASL PLAIN/LOGIN, APOP, SASL CRAM-MD5,
// and the credential lookup of SASL SCRAM-*) from the passwd-file. The network
// layer runs it on the worker pool, because verifying a hash takes milliseconds to hundreds of
// milliseconds by design, and hands the AuthResult back to the session.
//
// What the client can learn: nothing beyond success or failure. An unknown user, a wrong
// password, a scheme that cannot serve the method and an unknown scheme all give kAuthFailed,
// and an unknown user costs the same time as a known one (a dummy hash of the file's typical
// cost is verified). For SCRAM an unknown user gets made-up credentials that are stable per
// name within the process, so the exchange runs on and fails at the proof exactly like a wrong
// password (RFC 5802 §9 recommends this). The Status message says which case it was, for the log
// only; it never holds the password, the digest or the stored value.
//
// Thread-safety: authenticate() may be called from any number of threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "auth/auth_request.h"
#include "auth/passwd_file.h"
#include "base/clock.h"

namespace poplar::auth {

class Authenticator {
 public:
  // `clock` must outlive this object; it paces the passwd-file's change checks.
  Authenticator(std::string passwd_path, const Clock& clock);

  // Result codes (AuthResult::status):
  //   OK           the credentials verified; `user` is filled in from the passwd-file
  //   kAuthFailed  unknown user, wrong password or digest, empty password, malformed APOP or
  //                CRAM-MD5 digest, unknown or malformed stored scheme, or a scheme that cannot
  //                serve the method (APOP needs a {PLAIN}/{CLEARTEXT} entry; CRAM-MD5 also
  //                takes {CRAM-MD5}; SCRAM takes {SCRAM-SHA-*} of the same hash or {PLAIN}).
  //                For kScramLookup, `scram` is filled even then (made-up credentials), and
  //                the session must still fail the exchange whatever the proof says.
  //   kTemporary   the passwd-file cannot be read, or hashing ran out of memory
  AuthResult authenticate(const AuthRequest& request);

  // True when authenticate(request) costs microseconds whoever the user is: USER/PASS, APOP or
  // CRAM-MD5 against a passwd-file whose schemes are all cheap. SCRAM lookups may derive keys
  // (PBKDF2) and are never cheap.
  bool is_cheap(const AuthRequest& request);

  PasswdFile& passwd_file() { return passwd_file_; }

 private:
  AuthResult authenticate_user_pass(const AuthRequest& request);
  AuthResult authenticate_apop(const AuthRequest& request);
  AuthResult authenticate_cram_md5(const AuthRequest& request);
  AuthResult lookup_scram(const AuthRequest& request);
  // Credentials for a user who cannot do SCRAM: derived from `fake_key_` and the name, so they
  // are the same on every attempt in this process and cost what real ones cost.
  sasl::ScramCredentials made_up_scram(const AuthRequest& request) const;

  PasswdFile passwd_file_;
  std::array<uint8_t, 32> fake_key_{};  // per-process random, never leaves this object
};

}  // namespace poplar::auth
