#include "auth/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>

#include "auth/password_scheme.h"
#include "base/random.h"
#include "sasl/scram.h"

namespace poplar::auth {
namespace {

// RFC 1939 §7: the APOP digest is 16 octets of MD5 written as hex.
constexpr size_t kApopDigestHexDigits = 32;

// RFC 2195 §2: the CRAM-MD5 digest is 16 octets of HMAC-MD5 as hex.
constexpr size_t kCramDigestHexDigits = 32;
// The challenge stands in for an unknown user's entry in the dummy CRAM-MD5 computation.
constexpr std::string_view kCramDummyStored = "{PLAIN}poplar-cram-dummy-secret";
// A made-up SCRAM salt has the length of a real one (password_scheme: 16 bytes).
constexpr size_t kFakeSaltBytes = 16;

// Stands in for the secret of an unknown user or a non-APOP entry, so that every APOP attempt
// computes one MD5. Its value does not matter: the result of that comparison is ignored.
constexpr std::string_view kApopDummySecret = "poplar-apop-dummy-secret";

AuthResult failed(std::string why) {
  return AuthResult{Status::error(ErrorCode::kAuthFailed, std::move(why)), {}, {}};
}

AuthResult temporary(std::string why) {
  return AuthResult{Status::temporary(std::move(why)), {}, {}};
}

bool is_hex_digest(std::string_view text, size_t digits = kApopDigestHexDigits) {
  if (text.size() != digits) {
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

// HMAC-SHA256(key, label || name), the made-up SCRAM values' source.
std::string keyed(const std::array<uint8_t, 32>& key, std::string_view label,
                  std::string_view name) {
  std::string input(label);
  input += '\0';
  input += name;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), out,
           &size) == nullptr) {
    return std::string(32, '\0');  // out of memory: still a value, and the login still fails
  }
  return std::string(reinterpret_cast<const char*>(out), size);
}

}  // namespace

Authenticator::Authenticator(std::string passwd_path, const Clock& clock)
    : passwd_file_(std::move(passwd_path), clock) {
  SystemRandom::instance().fill(fake_key_);
}

bool Authenticator::is_cheap(const AuthRequest& request) {
  return request.method != AuthMethod::kScramLookup && passwd_file_.all_cheap_to_verify();
}

AuthResult Authenticator::authenticate(const AuthRequest& request) {
  switch (request.method) {
    case AuthMethod::kUserPass:
      return authenticate_user_pass(request);
    case AuthMethod::kApop:
      return authenticate_apop(request);
    case AuthMethod::kCramMd5:
      return authenticate_cram_md5(request);
    case AuthMethod::kScramLookup:
      return lookup_scram(request);
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

AuthResult Authenticator::authenticate_cram_md5(const AuthRequest& request) {
  if (request.cram_challenge.empty()) {
    return failed("no CRAM-MD5 challenge");
  }
  if (!is_hex_digest(request.cram_digest, kCramDigestHexDigits)) {
    return failed("malformed CRAM-MD5 digest");
  }
  Result<PasswdEntry> entry = passwd_file_.lookup(request.user);
  // An unknown user, or an entry CRAM-MD5 cannot use, costs one HMAC-MD5 like a real check.
  auto spend_dummy_time = [&] {
    Result<std::string> dummy = cram_md5_digest(kCramDummyStored, request.cram_challenge);
    if (dummy) {
      static_cast<void>(apop_digest_matches(*dummy, request.cram_digest));
    }
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
  Result<std::string> expected = cram_md5_digest(entry->password.view(), request.cram_challenge);
  if (!expected) {
    if (expected.status().code() == ErrorCode::kTemporary) {
      return temporary(expected.status().message());
    }
    spend_dummy_time();
    return failed(expected.status().message());  // names the scheme, never the value
  }
  if (!apop_digest_matches(*expected, request.cram_digest)) {
    return failed("CRAM-MD5 digest mismatch");
  }
  return AuthResult{Status::ok(), std::move(entry->user), {}};
}

sasl::ScramCredentials Authenticator::made_up_scram(const AuthRequest& request) const {
  // Derived like a {PLAIN} entry's, from a password nobody knows, so the lookup costs the same
  // and server-first looks the same (salt length, iteration count) as for a real user.
  std::string salt = keyed(fake_key_, "scram-salt", request.user);
  salt.resize(kFakeSaltBytes);
  std::string password = keyed(fake_key_, "scram-password", request.user);
  Result<sasl::ScramCredentials> creds = sasl::derive_scram_credentials(
      request.scram_hash, Secret(password), salt, sasl::kScramDefaultIterations);
  secure_wipe(password.data(), password.size());
  if (creds) {
    return std::move(*creds);
  }
  // PBKDF2 failed (out of memory): keys of the right size that match no proof.
  sasl::ScramCredentials fallback;
  fallback.hash = request.scram_hash;
  fallback.iterations = sasl::kScramDefaultIterations;
  fallback.salt = salt;
  size_t key_bytes = request.scram_hash == sasl::ScramHash::kSha1 ? 20 : 32;
  fallback.stored_key = keyed(fake_key_, "scram-stored", request.user).substr(0, key_bytes);
  fallback.server_key = keyed(fake_key_, "scram-server", request.user).substr(0, key_bytes);
  return fallback;
}

AuthResult Authenticator::lookup_scram(const AuthRequest& request) {
  Result<PasswdEntry> entry = passwd_file_.lookup(request.user);
  if (!entry) {
    if (entry.status().code() != ErrorCode::kNotFound) {
      return temporary(entry.status().message());
    }
    AuthResult result = failed("unknown user");
    result.scram = made_up_scram(request);
    return result;
  }
  Result<sasl::ScramCredentials> creds =
      scram_credentials(entry->password.view(), request.scram_hash, request.user);
  if (!creds) {
    if (creds.status().code() == ErrorCode::kTemporary) {
      return temporary(creds.status().message());
    }
    AuthResult result = failed(creds.status().message());  // names the scheme only
    result.scram = made_up_scram(request);
    return result;
  }
  return AuthResult{Status::ok(), std::move(entry->user), std::move(*creds)};
}

}  // namespace poplar::auth
