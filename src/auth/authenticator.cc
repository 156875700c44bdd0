#include "auth/authenticator.h"

#include <openssl/crypto.h>

#include <utility>

#include "auth/password_scheme.h"

namespace poplar::auth {
namespace {

// RFC 1939 §7: the APOP digest is 16 octets of MD5 written as hex.
constexpr size_t kApopDigestHexDigits = 32;

// Stands in for the secret of an unknown user or a non-APOP entry, so that every APOP attempt
// computes one MD5. Its value does not matter: the result of that comparison is ignored.
constexpr std::string_view kApopDummySecret = "poplar-apop-dummy-secret";

AuthResult failed(std::string why) {
  return AuthResult{Status::error(ErrorCode::kAuthFailed, std::move(why)), {}, {}};
}

AuthResult temporary(std::string why) {
  return AuthResult{Status::temporary(std::move(why)), {}, {}};
}

bool is_hex_digest(std::string_view text) {
  if (text.size() != kApopDigestHexDigits) {
    return false;
  }
  for (char c : text) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) {
      return false;
    }
  }
  return true;
}

// Lowercases the client's digest (RFC 1939 asks for lowercase, but some clients send upper)
// and compares in constant time.
bool apop_digest_matches(std::string_view expected, std::string_view client) {
  std::string lowered(client);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'F') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return expected.size() == lowered.size() &&
         CRYPTO_memcmp(expected.data(), lowered.data(), expected.size()) == 0;
}

}  // namespace

Authenticator::Authenticator(std::string passwd_path, const Clock& clock)
    : passwd_file_(std::move(passwd_path), clock) {}

AuthResult Authenticator::authenticate(const AuthRequest& request) {
  switch (request.method) {
    case AuthMethod::kUserPass:
      return authenticate_user_pass(request);
    case AuthMethod::kApop:
      return authenticate_apop(request);
    case AuthMethod::kCramMd5:
    case AuthMethod::kScramLookup:
      // TODO(poplar): #3 SASL; no mechanism is offered yet.
      return failed("mechanism not supported yet");
  }
  return failed("unknown authentication method");
}

AuthResult Authenticator::authenticate_user_pass(const AuthRequest& request) {
  // Decided before the lookup, so it reveals nothing about the user.
  if (request.password.empty()) {
    return failed("empty password");
  }
  Result<PasswdEntry> entry = passwd_file_.lookup(request.user);
  auto spend_dummy_time = [&] {
    static_cast<void>(verify_password(passwd_file_.timing_dummy().view(), request.password));
  };
  if (!entry) {
    if (entry.status().code() == ErrorCode::kNotFound) {
      spend_dummy_time();
      return failed("unknown user");
    }
    return temporary(entry.status().message());
  }
  if (entry->password.empty()) {
    spend_dummy_time();
    return failed("no password set for user");
  }
  Status verified = verify_password(entry->password.view(), request.password);
  switch (verified.code()) {
    case ErrorCode::kOk:
      return AuthResult{Status::ok(), std::move(entry->user), {}};
    case ErrorCode::kTemporary:
      return temporary(verified.message());
    case ErrorCode::kAuthFailed:
      return failed(verified.message());
    default:
      // Unknown scheme or malformed value: rejected at once, so spend the time a real hash
      // would have taken.
      spend_dummy_time();
      return failed(verified.message());
  }
}

AuthResult Authenticator::authenticate_apop(const AuthRequest& request) {
  if (request.apop_timestamp.empty()) {
    return failed("no APOP timestamp was offered");
  }
  if (!is_hex_digest(request.apop_digest)) {
    return failed("malformed APOP digest");
  }
  Result<PasswdEntry> entry = passwd_file_.lookup(request.user);
  auto spend_dummy_time = [&] {
    static_cast<void>(apop_digest_matches(apop_digest(request.apop_timestamp, kApopDummySecret),
                                          request.apop_digest));
  };
  if (!entry) {
    if (entry.status().code() == ErrorCode::kNotFound) {
      spend_dummy_time();
      return failed("unknown user");
    }
    return temporary(entry.status().message());
  }
  std::optional<Secret> secret = plaintext_secret(entry->password.view());
  if (!secret || secret->empty()) {
    spend_dummy_time();
    return failed("scheme cannot serve APOP");
  }
  std::string expected = apop_digest(request.apop_timestamp, secret->view());
  if (!apop_digest_matches(expected, request.apop_digest)) {
    return failed("APOP digest mismatch");
  }
  return AuthResult{Status::ok(), std::move(entry->user), {}};
}

}  // namespace poplar::auth
