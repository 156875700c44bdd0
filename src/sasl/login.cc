// SASL LOGIN server and client. See login.h. Holds the password only as a Secret.
#include "sasl/login.h"

#include <utility>

#include "sasl/saslprep.h"
#include "sasl/steps.h"

namespace poplar::sasl {
namespace {

using internal::challenge;
using internal::failure;

constexpr std::string_view kUserChallenge = "Username:";
constexpr std::string_view kPasswordChallenge = "Password:";

class LoginServer final : public ServerMechanism {
 public:
  std::string_view name() const override { return "LOGIN"; }

  ServerStep start(std::optional<std::string_view> initial_response) override {
    // An empty initial response ("=") carries no user name: ask for it, as Dovecot does.
    if (!initial_response || initial_response->empty()) {
      state_ = State::kAwaitUser;
      return challenge(std::string(kUserChallenge));
    }
    return take_user(*initial_response);
  }

  ServerStep step(std::string_view response) override {
    switch (state_) {
      case State::kAwaitUser:
        return take_user(response);
      case State::kAwaitPassword:
        return take_password(response);
      case State::kDone:
        break;
    }
    return failure("LOGIN: unexpected response");
  }

 private:
  enum class State { kAwaitUser, kAwaitPassword, kDone };

  ServerStep take_user(std::string_view user) {
    state_ = State::kDone;
    if (user.empty() || user.size() > kLoginMaxFieldOctets ||
        user.find('\0') != std::string_view::npos || !is_valid_utf8(user)) {
      return failure("LOGIN: malformed user name");
    }
    user_ = std::string(user);
    state_ = State::kAwaitPassword;
    return challenge(std::string(kPasswordChallenge));
  }

  ServerStep take_password(std::string_view password) {
    state_ = State::kDone;
    // No UTF-8 rule for LOGIN passwords: legacy 8-bit passwords exist. A NUL cannot be
    // checked by crypt(3) and is refused like everywhere else.
    if (password.empty() || password.size() > kLoginMaxFieldOctets ||
        password.find('\0') != std::string_view::npos) {
      return failure("LOGIN: malformed password");
    }
    ServerStep step;
    step.kind = ServerStep::Kind::kCheckPassword;
    step.user = user_;
    step.password_check.authcid = user_;
    step.password_check.password = Secret(password);
    return step;
  }

  State state_ = State::kDone;
  std::string user_;
};

class LoginClient final : public ClientMechanism {
 public:
  explicit LoginClient(ClientCredentials credentials) : credentials_(std::move(credentials)) {}

  std::string_view name() const override { return "LOGIN"; }

  // The draft has no initial response; some servers reject one.
  std::optional<std::string> initial_response() override { return std::nullopt; }

  // The challenge text is ignored (the draft and servers disagree on it); the order decides.
  ClientStep step(std::string_view) override {
    ++steps_;
    if (steps_ == 1) {
      return internal::respond(credentials_.authcid);
    }
    if (steps_ == 2) {
      return internal::respond(std::string(credentials_.password.view()));
    }
    return internal::client_failure("LOGIN: unexpected third challenge");
  }

  bool complete() const override { return steps_ == 2; }

 private:
  ClientCredentials credentials_;
  int steps_ = 0;
};

}  // namespace

ServerMechanismPtr make_login_server() { return std::make_unique<LoginServer>(); }

ClientMechanismPtr make_login_client(ClientCredentials credentials) {
  return std::make_unique<LoginClient>(std::move(credentials));
}

}  // namespace poplar::sasl
