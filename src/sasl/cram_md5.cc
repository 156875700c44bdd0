// SASL CRAM-MD5 server and client (RFC 2195). See cram_md5.h. Never logs the digest.
#include "sasl/cram_md5.h"

#include <utility>

#include "base/hex.h"
#include "base/secret.h"
#include "sasl/crypto.h"
#include "sasl/saslprep.h"
#include "sasl/steps.h"

namespace poplar::sasl {
namespace {

using internal::challenge;
using internal::failure;

// RFC 2195 §2: the digest is 16 octets of HMAC-MD5 as 32 hex digits.
constexpr size_t kDigestHexDigits = 32;
constexpr size_t kMaxUserOctets = 1024;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

class CramMd5Server final : public ServerMechanism {
 public:
  CramMd5Server(const ServerContext& context, std::string fixed_challenge)
      : challenge_(std::move(fixed_challenge)) {
    if (challenge_.empty()) {
      Random& random = context.random != nullptr ? *context.random : SystemRandom::instance();
      std::string host = context.hostname.empty() ? "localhost" : context.hostname;
      // 64 random bits make the challenge unique per exchange even within one second.
      challenge_ = "<" + std::to_string(random.next_u64()) + "." +
                   std::to_string(context.unix_time) + "@" + host + ">";
    }
  }

  std::string_view name() const override { return "CRAM-MD5"; }

  ServerStep start(std::optional<std::string_view> initial_response) override {
    // CRAM-MD5 is server-first: an initial response with content is a protocol error
    // (RFC 4422 §5); "=" (empty) is harmless.
    if (initial_response && !initial_response->empty()) {
      return failure("CRAM-MD5: unexpected initial response");
    }
    awaiting_ = true;
    return challenge(challenge_);
  }

  ServerStep step(std::string_view response) override {
    if (!awaiting_) {
      return failure("CRAM-MD5: unexpected response");
    }
    awaiting_ = false;
    // "user SP digest"; the user name may itself contain spaces, the digest never does.
    size_t space = response.rfind(' ');
    if (space == std::string_view::npos || space == 0) {
      return failure("CRAM-MD5: malformed response");
    }
    std::string_view user = response.substr(0, space);
    std::string_view digest = response.substr(space + 1);
    if (digest.size() != kDigestHexDigits) {
      return failure("CRAM-MD5: malformed digest");
    }
    std::string lowered;
    for (char c : digest) {
      if (!is_hex(c)) {
        return failure("CRAM-MD5: malformed digest");
      }
      // RFC 2195 asks for lowercase; some clients send uppercase, which means the same.
      lowered += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (user.size() > kMaxUserOctets || user.find('\0') != std::string_view::npos ||
        !is_valid_utf8(user)) {
      return failure("CRAM-MD5: malformed user name");
    }
    ServerStep step;
    step.kind = ServerStep::Kind::kCheckCramMd5;
    step.user = std::string(user);
    step.cram_check.user = std::string(user);
    step.cram_check.challenge = challenge_;
    step.cram_check.digest_hex = std::move(lowered);
    return step;
  }

 private:
  std::string challenge_;
  bool awaiting_ = false;
};

class CramMd5Client final : public ClientMechanism {
 public:
  explicit CramMd5Client(ClientCredentials credentials) : credentials_(std::move(credentials)) {}

  std::string_view name() const override { return "CRAM-MD5"; }
  std::optional<std::string> initial_response() override { return std::nullopt; }

  ClientStep step(std::string_view server_challenge) override {
    if (answered_ || server_challenge.empty()) {
      return internal::client_failure("CRAM-MD5: unexpected server challenge");
    }
    answered_ = true;
    std::string digest = cram_md5_hex(credentials_.password.view(), server_challenge);
    if (digest.empty()) {
      return internal::client_failure("CRAM-MD5: HMAC failed");
    }
    return internal::respond(credentials_.authcid + " " + digest);
  }

  bool complete() const override { return answered_; }

 private:
  ClientCredentials credentials_;
  bool answered_ = false;
};

}  // namespace

ServerMechanismPtr make_cram_md5_server(const ServerContext& context, std::string fixed_challenge) {
  return std::make_unique<CramMd5Server>(context, std::move(fixed_challenge));
}

ClientMechanismPtr make_cram_md5_client(ClientCredentials credentials) {
  return std::make_unique<CramMd5Client>(std::move(credentials));
}

std::string cram_md5_hex(std::string_view secret, std::string_view challenge_text) {
  std::optional<std::string> mac = internal::hmac(internal::Digest::kMd5, secret, challenge_text);
  if (!mac) {
    return std::string();
  }
  return to_hex(*mac);
}

}  // namespace poplar::sasl
