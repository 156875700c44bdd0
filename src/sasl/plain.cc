// SASL PLAIN server and client (RFC 4616). See plain.h. Holds the password only as a Secret.
#include "sasl/plain.h"

#include <utility>

#include "sasl/saslprep.h"
#include "sasl/steps.h"

namespace poplar::sasl {
namespace {

using internal::challenge;
using internal::failure;

class PlainServer final : public ServerMechanism {
 public:
  std::string_view name() const override { return "PLAIN"; }

  ServerStep start(std::optional<std::string_view> initial_response) override {
    if (!initial_response) {
      // RFC 5034 §4: a client-first mechanism without an initial response gets an empty
      // challenge, and the client sends the message in reply.
      awaiting_ = true;
      return challenge("");
    }
    return parse(*initial_response);
  }

  ServerStep step(std::string_view response) override {
    if (!awaiting_) {
      return failure("PLAIN: unexpected response");
    }
    awaiting_ = false;
    return parse(response);
  }

 private:
  ServerStep parse(std::string_view message) {
    // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd; exactly two NULs.
    size_t first = message.find('\0');
    size_t second = first == std::string_view::npos ? first : message.find('\0', first + 1);
    if (second == std::string_view::npos ||
        message.find('\0', second + 1) != std::string_view::npos) {
      return failure("PLAIN: malformed message (NUL count)");
    }
    std::string_view authzid = message.substr(0, first);
    std::string_view authcid = message.substr(first + 1, second - first - 1);
    std::string_view password = message.substr(second + 1);
    if (authcid.empty() || password.empty()) {
      return failure("PLAIN: empty authcid or password");
    }
    if (authzid.size() > kPlainMaxFieldOctets || authcid.size() > kPlainMaxFieldOctets ||
        password.size() > kPlainMaxFieldOctets) {
      return failure("PLAIN: field too long");
    }
    if (!is_valid_utf8(authzid) || !is_valid_utf8(authcid) || !is_valid_utf8(password)) {
      return failure("PLAIN: invalid UTF-8");
    }
    // RFC 4616 §2: authorizing as someone else needs a policy; Poplar has no proxy users.
    if (!authzid.empty() && authzid != authcid) {
      return failure("PLAIN: authzid differs from authcid");
    }
    ServerStep step;
    step.kind = ServerStep::Kind::kCheckPassword;
    step.user = std::string(authcid);
    step.password_check.authzid = std::string(authzid);
    step.password_check.authcid = std::string(authcid);
    step.password_check.password = Secret(password);
    return step;
  }

  bool awaiting_ = false;
};

class PlainClient final : public ClientMechanism {
 public:
  explicit PlainClient(ClientCredentials credentials) : credentials_(std::move(credentials)) {}

  std::string_view name() const override { return "PLAIN"; }

  // The driver may hold the initial response back when it would make the AUTH line too long
  // (RFC 5034 §4) and send it after the server's empty challenge instead.
  std::optional<std::string> initial_response() override { return message(); }

  ClientStep step(std::string_view challenge_bytes) override {
    // Only an empty challenge (the server asking for the message) makes sense, and only once.
    if (stepped_ || !challenge_bytes.empty()) {
      return internal::client_failure("PLAIN: unexpected server challenge");
    }
    stepped_ = true;
    return internal::respond(message());
  }

  // PLAIN gives no proof of the server's identity; the server's +OK is all there is.
  bool complete() const override { return true; }

 private:
  std::string message() const {
    std::string out = credentials_.authzid;
    out += '\0';
    out += credentials_.authcid;
    out += '\0';
    out += credentials_.password.view();
    return out;
  }

  ClientCredentials credentials_;
  bool stepped_ = false;
};

}  // namespace

ServerMechanismPtr make_plain_server() { return std::make_unique<PlainServer>(); }

ClientMechanismPtr make_plain_client(ClientCredentials credentials) {
  return std::make_unique<PlainClient>(std::move(credentials));
}

}  // namespace poplar::sasl
