// ClientSession: choosing and running the login (USER/PASS, APOP, SASL AUTH per RFC 5034).
// See client_session.h.
//
// Never puts the password anywhere but the one command line (or mechanism) that needs it, and
// never into a failure text. Thread-safety: see client_session.h.
#include <string>
#include <utility>

#include "base/ascii.h"
#include "base/base64.h"
#include "base/hex.h"
#include "base/secret.h"
#include "pop3/client_session.h"
#include "pop3/client_session_impl.h"
#include "sasl/crypto.h"  // MD5 for APOP: the one primitive sasl/ has and pop3/ needs
#include "sasl/registry.h"

namespace poplar::pop3 {

namespace {

constexpr size_t kMaxCommandOctets = 255;  // RFC 2449 §4, CRLF included

// A command argument must not smuggle a line end (or a NUL) into the stream.
bool safe_argument(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool has_binding_data(const sasl::ChannelBindings& bindings) {
  return bindings.tls_active &&
         (!bindings.tls_exporter.empty() || !bindings.tls_server_end_point.empty());
}

bool is_plus(std::string_view mechanism) {
  return mechanism.size() > 5 && mechanism.substr(mechanism.size() - 5) == "-PLUS";
}

}  // namespace

void ClientSession::Impl::start_auth() {
  const std::string& user = config_.user;
  if (user.empty() || !safe_argument(user) || user.size() + 8 > kMaxCommandOctets) {
    fail(FailureKind::kConfig, "the user name is empty, too long or contains a line end");
    return;
  }
  const std::vector<std::string_view> offered = capability_args("SASL");
  auto server_offers = [&](std::string_view name) {
    for (std::string_view m : offered) {
      if (equals_ignore_case(m, name)) {
        return true;
      }
    }
    return false;
  };
  switch (config_.auth) {
    case AuthChoice::kApop: {
      if (apop_timestamp_.empty()) {
        fail(FailureKind::kConfig, "APOP was asked for but the greeting has no timestamp");
        return;
      }
      if (user.find(' ') != std::string::npos) {
        fail(FailureKind::kConfig, "APOP cannot carry a user name with a space");
        return;
      }
      // RFC 1939 §7: hex(MD5(timestamp || secret)).
      std::string input = apop_timestamp_;
      input.append(config_.password.view());
      std::optional<std::string> digest = sasl::internal::hash(sasl::internal::Digest::kMd5, input);
      secure_wipe(input.data(), input.size());
      if (!digest) {
        fail(FailureKind::kTemporary, "MD5 failed (out of memory?)");
        return;
      }
      send(Command::kApop, 0, "APOP " + user + " " + to_hex(*digest), ResponseShape::kStatusOnly);
      secure_wipe(digest->data(), digest->size());
      return;
    }
    case AuthChoice::kUserPass:
      if (!plaintext_password_ok()) {
        fail(FailureKind::kConfig,
             "USER/PASS would send the password in cleartext (no TLS, plaintext not allowed)");
        return;
      }
      send(Command::kUser, 0, "USER " + user, ResponseShape::kStatusOnly);
      return;
    case AuthChoice::kSasl: {
      std::string name = ascii_upper(config_.sasl_mechanism);
      if (capa_known_ && !server_offers(name)) {
        fail(FailureKind::kConfig,
             "the server does not offer SASL " + sanitize_server_text(name) +
                 " (it offers: " + sanitize_server_text(capability_args_text("SASL")) + ")");
        return;
      }
      if (sasl::sends_plaintext_password(name) && !plaintext_password_ok()) {
        fail(FailureKind::kConfig, name +
                                       " would send the password in cleartext (no TLS, "
                                       "plaintext not allowed)");
        return;
      }
      if (is_plus(name) && !has_binding_data(bindings_)) {
        fail(FailureKind::kConfig, name + " needs TLS channel binding, which is not available");
        return;
      }
      start_sasl(name);
      return;
    }
    case AuthChoice::kAny:
      break;
  }
  // The strongest mechanism both sides have (sasl::known_mechanisms() is strongest first).
  for (const std::string& name : sasl::known_mechanisms()) {
    if (!server_offers(name)) {
      continue;
    }
    if (is_plus(name) && !has_binding_data(bindings_)) {
      continue;
    }
    if (sasl::sends_plaintext_password(name) && !plaintext_password_ok()) {
      continue;
    }
    start_sasl(name);
    return;
  }
  // USER/PASS: advertised, or a server without CAPA (RFC 1939 only) where it is the baseline.
  if ((!capa_known_ || has_capability("USER")) && plaintext_password_ok()) {
    send(Command::kUser, 0, "USER " + user, ResponseShape::kStatusOnly);
    return;
  }
  fail(FailureKind::kConfig,
       plaintext_password_ok()
           ? "no authentication method in common with the server"
           : "the server offers only methods that send the password in cleartext, and "
             "plaintext is not allowed without TLS");
}

std::string ClientSession::Impl::capability_args_text(std::string_view tag) const {
  for (const auto& capa : capabilities_) {
    if (equals_ignore_case(capa.first, tag)) {
      return capa.second;
    }
  }
  return "nothing";
}

void ClientSession::Impl::start_sasl(const std::string& name) {
  sasl::ClientCredentials credentials{config_.user, {}, config_.password};
  // RFC 5802 §6: a client that could bind sends "y" only when the server did not advertise
  // -PLUS; when it did (and the plain variant was chosen, e.g. by name), "n" is right, and "y"
  // would make the server fail the exchange as a downgrade.
  sasl::ChannelBindings bindings = bindings_;
  bool plus_offered = false;
  for (std::string_view m : capability_args("SASL")) {
    plus_offered = plus_offered || equals_ignore_case(m, name + "-PLUS");
  }
  if (!is_plus(name) && plus_offered) {
    bindings = sasl::ChannelBindings{};
  }
  mechanism_ = sasl::make_client_mechanism(name, std::move(credentials), random_, bindings);
  if (mechanism_ == nullptr) {
    fail(FailureKind::kConfig, "unknown SASL mechanism " + sanitize_server_text(name));
    return;
  }
  std::string line = "AUTH " + name;
  std::optional<std::string> initial = mechanism_->initial_response();
  if (initial) {
    // RFC 5034 §4: an empty initial response is "=".
    std::string encoded = initial->empty() ? "=" : base64_encode(*initial);
    secure_wipe(initial->data(), initial->size());
    // SPEC pitfall 20 / R5034-4-d: never an AUTH line over 255 octets; send it after "+ ".
    if (line.size() + 1 + encoded.size() + 2 <= kMaxCommandOctets) {
      line += ' ';
      line += encoded;
    } else {
      withheld_initial_response_ = std::move(encoded);
      initial_response_withheld_ = true;
    }
    secure_wipe(encoded.data(), encoded.size());
  }
  send(Command::kAuth, 0, line, ResponseShape::kStatusOnly);
  secure_wipe(line.data(), line.size());
}

void ClientSession::Impl::cancel_sasl(FailureKind kind, std::string reason) {
  // RFC 5034 §4: "*" cancels; the server answers -ERR, and then the session fails.
  sasl_cancelled_ = true;
  cancel_failure_ = ClientFailure{kind, std::move(reason), {}, {}};
  out_.append("*\r\n");
  parser_.expect(ResponseShape::kStatusOnly);
}

void ClientSession::Impl::handle_sasl_challenge(const StatusLine& status) {
  if (sasl_cancelled_) {
    // Still talking after "*": the cancel's answer is what we wait for; this is not it.
    fail(cancel_failure_.kind, cancel_failure_.reason);
    return;
  }
  if (initial_response_withheld_) {
    initial_response_withheld_ = false;
    out_.append(withheld_initial_response_);
    out_.append("\r\n");
    secure_wipe(withheld_initial_response_.data(), withheld_initial_response_.size());
    withheld_initial_response_.clear();
    parser_.expect(ResponseShape::kStatusOnly);
    return;
  }
  std::optional<std::string> challenge = base64_decode(status.text);
  if (!challenge) {
    // PR-C-8 (MailKit#268): "+ go ahead" is not base64. PLAIN and LOGIN ignore the text.
    std::string_view name = mechanism_->name();
    if (name == "PLAIN" || name == "LOGIN") {
      challenge.emplace();
    } else {
      cancel_sasl(FailureKind::kProtocol, "the server sent a SASL challenge that is not base64");
      return;
    }
  }
  // SCRAM's server-final "e=..." (RFC 5802 §7, e.g. invalid-proof) is the server saying the
  // credentials were wrong: an authentication failure, not a broken protocol.
  const bool server_error = std::string_view(mechanism_->name()).starts_with("SCRAM-") &&
                            std::string_view(*challenge).starts_with("e=");
  sasl::ClientStep step = mechanism_->step(*challenge);
  if (step.kind == sasl::ClientStep::Kind::kFailure) {
    cancel_sasl(server_error ? FailureKind::kAuth : FailureKind::kProtocol,
                "SASL " + std::string(mechanism_->name()) + ": " + step.error);
    return;
  }
  std::string encoded = base64_encode(step.response);
  secure_wipe(step.response.data(), step.response.size());
  out_.append(encoded);  // an empty response is an empty line
  out_.append("\r\n");
  secure_wipe(encoded.data(), encoded.size());
  parser_.expect(ResponseShape::kStatusOnly);
}

void ClientSession::Impl::handle_auth_reply(const StatusLine& status, Command command) {
  if (command == Command::kAuth && status.kind == StatusKind::kContinuation) {
    handle_sasl_challenge(status);
    return;
  }
  if (command == Command::kAuth && sasl_cancelled_) {
    fail(cancel_failure_.kind, cancel_failure_.reason);
    return;
  }
  if (!status.ok()) {
    std::string what = command == Command::kAuth
                           ? "AUTH " + std::string(mechanism_ ? mechanism_->name() : "")
                       : command == Command::kApop ? "APOP"
                       : command == Command::kUser ? "USER"
                                                   : "PASS";
    fail(classify_login_error(status.code),
         "login failed (" + what + "): " + sanitize_server_text(status.text), status.code);
    return;
  }
  switch (command) {
    case Command::kUser: {
      std::string_view password = config_.password.view();
      if (!safe_argument(password) || password.size() + 7 > kMaxCommandOctets) {
        fail(FailureKind::kConfig, "the password is too long for PASS or contains a line end");
        return;
      }
      std::string line = "PASS ";
      line.append(password);
      send(Command::kPass, 0, line, ResponseShape::kStatusOnly);
      secure_wipe(line.data(), line.size());
      return;
    }
    case Command::kPass:
      logged_in("USER");
      return;
    case Command::kApop:
      logged_in("APOP");
      return;
    default:
      break;
  }
  // AUTH +OK: only a finished mechanism counts (SCRAM must have checked the server's proof).
  if (mechanism_ == nullptr || !mechanism_->complete()) {
    fail(FailureKind::kProtocol,
         "the server accepted the login before the SASL exchange was complete (for SCRAM: "
         "without proving it knows the password)");
    return;
  }
  logged_in(std::string(mechanism_->name()));
}

void ClientSession::Impl::logged_in(std::string method) {
  config_.password.wipe();
  mechanism_.reset();
  phase_ = Phase::kCapaAfterLogin;
  events_.on_logged_in(method);
  if (phase_ != Phase::kCapaAfterLogin) {
    return;  // the handler ended the session
  }
  // PR-C-10: some servers announce UIDL, PIPELINING or the real LOGIN-DELAY only now.
  send(Command::kCapa, 0, "CAPA", ResponseShape::kLines);
}

}  // namespace poplar::pop3
