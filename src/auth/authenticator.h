// Authenticator: answers an AuthRequest (USER/PASS or APOP) from the passwd-file. The network
// layer runs it on the worker pool, because verifying a hash takes milliseconds to hundreds of
// milliseconds by design, and hands the AuthResult back to the session.
//
// What the client can learn: nothing beyond success or failure. An unknown user, a wrong
// password, a scheme that cannot serve the method and an unknown scheme all give kAuthFailed,
// and an unknown user costs the same time as a known one (a dummy hash of the file's typical
// cost is verified). The Status message says which case it was, for the log only; it never
// holds the password, the digest or the stored value.
//
// Thread-safety: authenticate() may be called from any number of threads at once.
#pragma once

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
  //   kAuthFailed  unknown user, wrong password or digest, empty password, malformed APOP
  //                digest, unknown or malformed stored scheme, or a scheme that cannot serve
  //                the method (APOP needs a {PLAIN}/{CLEARTEXT} entry)
  //   kTemporary   the passwd-file cannot be read, or hashing ran out of memory
  AuthResult authenticate(const AuthRequest& request);

  PasswdFile& passwd_file() { return passwd_file_; }

 private:
  AuthResult authenticate_user_pass(const AuthRequest& request);
  AuthResult authenticate_apop(const AuthRequest& request);

  PasswdFile passwd_file_;
};

}  // namespace poplar::auth
