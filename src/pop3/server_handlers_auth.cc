// AUTHORIZATION-state handlers (RFC 1939 §4, §7; RFC 2449 §5; STLS RFC 2595 §4; UTF8 and LANG
// RFC 6856) and the results of the authentication, maildrop and TLS actions. Which command
// reaches which handler is decided by command_table.cc alone.
//
// Must never: reveal whether a user exists (USER always says +OK, every credential failure
// has the same text: RFC 1939 §13), log or keep a password after its check (base/secret.h),
// or enter TRANSACTION without the maildrop lock (RFC 1939 §4).
// Thread-safety: not thread-safe; part of SessionCore.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "base/base64.h"
#include "base/log.h"
#include "base/secret.h"
#include "pop3/capabilities.h"
#include "pop3/server_session_impl.h"
#include "sasl/registry.h"
#include "sasl/saslprep.h"

namespace poplar::pop3 {
namespace {

// SPEC R2449-6.2 / issue #3: the refusal says what to do instead.
constexpr std::string_view kPlaintextDisabled =
    "Plaintext authentication is disabled on this connection; use TLS.";
constexpr std::string_view kPlaintextDisabledUseStls =
    "Plaintext authentication is disabled on this connection; use STLS first.";
constexpr std::string_view kBadUtf8User =
    "User name is not valid UTF-8 or has a prohibited character.";
constexpr std::string_view kBadUtf8Password =
    "Password is not valid UTF-8 or has a prohibited character.";

std::string to_upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return upper;
}

// After UTF8 (RFC 6856 §2.2): a user name or password must be UTF-8 and is prepared with
// SASLprep (RFC 4013, as a query: unassigned code points allowed). nullopt: refuse it.
std::optional<std::string> prepare_utf8(std::string_view text) {
  if (!sasl::is_valid_utf8(text)) {
    return std::nullopt;
  }
  Result<std::string> prepared = sasl::saslprep(text, /*allow_unassigned=*/true);
  if (!prepared.is_ok()) {
    return std::nullopt;
  }
  return std::move(prepared).value();
}

}  // namespace

std::string_view SessionCore::plaintext_refusal() const {
  return stls_available_now() ? kPlaintextDisabledUseStls : kPlaintextDisabled;
}

bool SessionCore::stls_available_now() const {
  // RFC 2595 §4: only in AUTHORIZATION and only once; RFC 6856 §2.1: not after UTF8.
  return config_.starttls_available && !tls_active_ && !utf8_ &&
         state_ == SessionState::kAuthorization;
}

CapaState SessionCore::capa_state() const {
  CapaState now;
  now.state = state_;
  now.plaintext_allowed = plaintext_allowed_now();
  now.stls_available = stls_available_now();
  now.sasl_mechanisms = usable_mechanisms();
  return now;
}

std::vector<std::string> SessionCore::usable_mechanisms() const {
  if (config_.sasl_mechanisms.empty()) {
    return {};
  }
  return sasl::advertised_mechanisms(config_.sasl_mechanisms, plaintext_allowed_now(),
                                     channel_bindings());
}

sasl::ChannelBindings SessionCore::channel_bindings() const {
  sasl::ChannelBindings bindings;
  bindings.tls_active = tls_active_;
  if (tls_active_) {
    bindings.tls_exporter = tls_.tls_exporter;
    bindings.tls_server_end_point = tls_.tls_server_end_point;
  }
  return bindings;
}

void SessionCore::handle_user(const ParsedCommand& command) {
  if (!plaintext_allowed_now()) {
    // SPEC R2449-6.2: USER is not in CAPA here; say why, with [AUTH] (a policy failure).
    reject_command(plaintext_refusal(), ResponseCode::kAuth);
    return;
  }
  if (utf8_) {
    std::optional<std::string> name = prepare_utf8(command.args.first);
    if (!name || name->empty()) {
      reject_command(kBadUtf8User, ResponseCode::kAuth);  // RFC 6856 §2.2: MUST reject
      return;
    }
    user_ = std::move(*name);
  } else {
    // Without UTF8 the octets are taken as they are (clients before RFC 6856 send Latin-1 or
    // UTF-8 unannounced; refusing them would lock those users out).
    user_.assign(command.args.first);
  }
  user_accepted_ = true;
  // RFC 1939 §13: +OK whether or not the user exists; PASS decides.
  reply_ok("Send your password.");
}

void SessionCore::handle_pass(const ParsedCommand& command) {
  if (!plaintext_allowed_now()) {
    reject_command(plaintext_refusal(), ResponseCode::kAuth);
    return;
  }
  if (!pass_may_follow_) {
    reject_command("Send USER first.");  // RFC 1939 §7: only right after a successful USER
    return;
  }
  auth::AuthRequest request;
  request.method = auth::AuthMethod::kUserPass;
  request.user = user_;
  if (utf8_) {
    std::optional<std::string> password = prepare_utf8(command.args.first);
    if (!password || password->empty()) {
      if (password) {
        secure_wipe(password->data(), password->size());
      }
      reject_command(kBadUtf8Password, ResponseCode::kAuth);  // RFC 6856 §2.2: MUST reject
      return;
    }
    request.password = Secret(*password);
    secure_wipe(password->data(), password->size());
  } else {
    request.password = Secret(command.args.first);
  }
  start_authentication(std::move(request), "USER");
}

void SessionCore::handle_apop(const ParsedCommand& command) {
  if (!config_.apop) {
    // No timestamp was in the greeting, so no digest can be right (RFC 1939 §7).
    reject_command("APOP is not enabled.");
    return;
  }
  if (utf8_) {
    std::optional<std::string> name = prepare_utf8(command.args.first);
    if (!name || name->empty()) {
      reject_command(kBadUtf8User, ResponseCode::kAuth);  // RFC 6856 §2.2
      return;
    }
    user_ = std::move(*name);
  } else {
    user_.assign(command.args.first);
  }
  auth::AuthRequest request;
  request.method = auth::AuthMethod::kApop;
  request.user = user_;
  request.apop_timestamp = apop_timestamp_;
  request.apop_digest.assign(command.args.second);
  start_authentication(std::move(request), "APOP");
}

void SessionCore::handle_auth(const ParsedCommand& command) {
  const std::vector<std::string> usable = usable_mechanisms();
  if (command.args.first.empty()) {
    // Bare AUTH lists the mechanisms usable now (Outlook's discovery; SPEC PR-S-5).
    reply_ok("Mechanisms follow.");
    std::string& o = out();
    for (const std::string& name : usable) {
      append_data_line(o, name);
    }
    append_terminator(o);
    return;
  }
  // RFC 5034 §4: the mechanism name is case-insensitive; `usable` holds canonical names.
  const std::string requested = to_upper(command.args.first);
  auto found = std::find(usable.begin(), usable.end(), requested);
  if (found == usable.end()) {
    bool configured =
        std::any_of(config_.sasl_mechanisms.begin(), config_.sasl_mechanisms.end(),
                    [&](const std::string& name) { return to_upper(name) == requested; });
    if (configured && sasl::sends_plaintext_password(requested) && !plaintext_allowed_now()) {
      // RFC 2595 §2.3, RFC 4616 §4: no plaintext passwords here; say what to do instead.
      reject_command(plaintext_refusal(), ResponseCode::kAuth);
      return;
    }
    // Not an [AUTH] failure: no credentials were checked (RFC 3206 §5).
    reply_err("Unsupported authentication mechanism.");
    return;
  }
  // RFC 5034 §4: "=" is an empty initial response, distinct from none at all; anything else
  // must be strict base64.
  std::optional<std::string> initial;
  if (command.args.second == "=") {
    initial.emplace();
  } else if (!command.args.second.empty()) {
    initial = base64_decode(command.args.second);
    if (!initial) {
      reject_command("Invalid base64 data.");
      return;
    }
  }
  sasl::ServerContext context;
  context.hostname = config_.hostname;
  context.random = &random_;
  context.unix_time = clock_.unix_seconds();
  context.bindings = channel_bindings();
  context.plus_advertised = std::any_of(usable.begin(), usable.end(), [](const std::string& n) {
    return n.size() > 5 && n.compare(n.size() - 5, 5, "-PLUS") == 0;
  });
  mechanism_ = sasl::make_server_mechanism(*found, context);
  if (!mechanism_) {
    reply_err("Unsupported authentication mechanism.");  // advertised but not built: a bug
    return;
  }
  mechanism_name_ = *found;
  user_.clear();
  sasl_verified_ = false;
  sasl_user_ = auth::UserRecord{};
  sasl::ServerStep step =
      mechanism_->start(initial ? std::optional<std::string_view>(*initial) : std::nullopt);
  if (initial) {
    secure_wipe(initial->data(), initial->size());  // PLAIN's initial response is a password
  }
  run_sasl_step(std::move(step));
}

void SessionCore::process_sasl_line(std::string_view line) {
  // RFC 5034 §4: each line answers the last "+ " challenge. The line may carry a password:
  // it is wiped in the splitter's buffer once handled, like a command line.
  if (sasl_phase_ == SaslPhase::kFailureAck) {
    sasl_failed(sasl_failure_reason_);
  } else if (line == "*") {
    // RFC 5034 §4: the client cancels; -ERR, still in AUTHORIZATION. Like Dovecot, a cancel
    // counts as a bad command, not as a failed login (no credentials were refused).
    end_sasl();
    reject_command("Authentication cancelled.");
  } else if (sasl_phase_ == SaslPhase::kFinalAck) {
    // RFC 5034 §4: the answer to the additional data with success is an empty line.
    if (line.empty()) {
      sasl_succeeded();
    } else {
      sasl_failed("response after the final challenge was not empty");
    }
  } else if (std::optional<std::string> response = base64_decode(line); !response) {
    end_sasl();
    reject_command("Invalid base64 data.");  // RFC 5034 §4: MUST reject the AUTH command
  } else {
    sasl::ServerStep step = mechanism_->step(*response);
    secure_wipe(response->data(), response->size());
    run_sasl_step(std::move(step));
  }
  secure_wipe(const_cast<char*>(line.data()), line.size());
}

void SessionCore::send_challenge(std::string_view data) {
  // RFC 5034 §4: "+" SP base64 CRLF and nothing else (an empty challenge is "+ ").
  std::string& o = out();
  o += "+ ";
  o += base64_encode(data);
  o += "\r\n";
}

void SessionCore::run_sasl_step(sasl::ServerStep step) {
  using Kind = sasl::ServerStep::Kind;
  switch (step.kind) {
    case Kind::kChallenge:
      send_challenge(step.data);
      sasl_phase_ = SaslPhase::kResponse;
      return;
    case Kind::kCheckPassword: {
      sasl::PasswordCheck& check = step.password_check;
      user_ = check.authcid;
      if (!check.authzid.empty() && check.authzid != check.authcid) {
        sasl_failed("authorization identity differs from authentication identity");  // 4616
        return;
      }
      auth::AuthRequest request;
      request.method = auth::AuthMethod::kUserPass;
      request.user = check.authcid;
      request.password = std::move(check.password);
      request.mechanism = mechanism_name_;
      sasl_phase_ = SaslPhase::kCheck;
      start_authentication(std::move(request), mechanism_name_);
      return;
    }
    case Kind::kCheckCramMd5: {
      user_ = step.cram_check.user;
      auth::AuthRequest request;
      request.method = auth::AuthMethod::kCramMd5;
      request.user = step.cram_check.user;
      request.cram_challenge = step.cram_check.challenge;
      request.cram_digest = step.cram_check.digest_hex;
      request.mechanism = mechanism_name_;
      sasl_phase_ = SaslPhase::kCheck;
      start_authentication(std::move(request), mechanism_name_);
      return;
    }
    case Kind::kLookupScram: {
      user_ = step.scram_lookup.user;
      if (!step.scram_lookup.authzid.empty() && step.scram_lookup.authzid != user_) {
        sasl_failed("authorization identity differs from authentication identity");
        return;
      }
      auth::AuthRequest request;
      request.method = auth::AuthMethod::kScramLookup;
      request.user = step.scram_lookup.user;
      request.scram_hash = step.scram_lookup.hash;
      request.mechanism = mechanism_name_;
      sasl_phase_ = SaslPhase::kLookup;
      start_authentication(std::move(request), mechanism_name_);
      return;
    }
    case Kind::kSuccess:
      // Only an exchange whose credentials auth/ vouched for may succeed: a mechanism alone
      // never logs anyone in.
      if (sasl_verified_) {
        sasl_proof_pending_ = false;  // the proof matched: nothing left to count as a guess
      }
      if (!sasl_verified_) {
        sasl_failed("mechanism success without verified credentials");
        return;
      }
      if (!step.data.empty()) {
        send_challenge(step.data);  // RFC 5034 §4: additional data with success
        sasl_phase_ = SaslPhase::kFinalAck;
        return;
      }
      sasl_succeeded();
      return;
    case Kind::kFailure:
      if (!step.data.empty()) {
        // SCRAM's server-error (RFC 5802 §7) tells the client why; it answers, then -ERR.
        send_challenge(step.data);
        sasl_failure_reason_ = step.reason;
        sasl_phase_ = SaslPhase::kFailureAck;
        return;
      }
      sasl_failed(step.reason);
      return;
  }
  sasl_failed("unknown mechanism step");
}

void SessionCore::on_scram_lookup(auth::AuthResult result) {
  // A backend failure ([SYS/TEMP], [SYS/PERM]) ends the exchange now; a credential failure
  // (unknown user) runs it to the end with the made-up credentials and fails at the proof,
  // like a wrong password (RFC 1939 §13 spirit: nothing tells the user apart).
  const WireError wire = map_error(result.status.code(), Operation::kAuthenticate);
  if (!result.status.is_ok() && wire.code != ResponseCode::kAuth) {
    log::info("auth-failed")
        .kv("user", user_)
        .kv("rip", remote_ip_)
        .kv("method", login_method_)
        .kv("reason", result.status.to_string());
    end_sasl();
    login_failed(wire);
    return;
  }
  sasl_phase_ = SaslPhase::kNone;
  sasl_verified_ = result.status.is_ok() && result.scram.has_value();
  sasl_proof_pending_ = true;
  sasl_user_ = std::move(result.user);
  Result<sasl::ScramCredentials> credentials =
      result.scram ? Result<sasl::ScramCredentials>(std::move(*result.scram))
                   : Result<sasl::ScramCredentials>(
                         Status::error(ErrorCode::kAuthFailed, "no SCRAM credentials"));
  run_sasl_step(mechanism_->on_scram_credentials(std::move(credentials)));
}

void SessionCore::sasl_succeeded() {
  user_record_ = std::move(sasl_user_);
  if (user_record_.name.empty()) {
    user_record_.name = user_;
  }
  end_sasl();
  login_method_ = mechanism_name_;
  waiting_ = Waiting::kMaildrop;  // RFC 1939 §4 / RFC 5034 §4: lock the maildrop before +OK
}

void SessionCore::sasl_failed(std::string_view reason) {
  if (sasl_proof_pending_) {
    unreported_auth_failure_ = user_;  // a wrong SCRAM proof: the driver counts it
  }
  // `reason` comes from the mechanism and never holds a secret (sasl/mechanism.h).
  log::info("auth-failed")
      .kv("user", user_)
      .kv("rip", remote_ip_)
      .kv("method", mechanism_name_)
      .kv("reason", reason);
  end_sasl();
  login_failed(map_error(ErrorCode::kAuthFailed, Operation::kAuthenticate));
}

void SessionCore::end_sasl() {
  mechanism_.reset();
  sasl_phase_ = SaslPhase::kNone;
  sasl_verified_ = false;
  sasl_proof_pending_ = false;
  sasl_user_ = auth::UserRecord{};
  sasl_failure_reason_.clear();
}

void SessionCore::handle_stls(const ParsedCommand&) {
  // None of these refusals counts as a bad command: a client may probe for STLS.
  if (tls_active_) {
    reply_err("Command not permitted when TLS active");  // RFC 2595 §4's wording
    return;
  }
  if (!config_.starttls_available) {
    reply_err("STLS not available.");
    return;
  }
  if (utf8_) {
    reply_err("STLS not permitted after UTF8.");  // RFC 6856 §2.1: the server MAY reject it
    return;
  }
  // RFC 2595 §4: +OK, then the handshake right after its CRLF. Input pipelined behind STLS is
  // dropped when this line is done (process_line), and receive() ignores input until
  // on_tls_started().
  reply_ok("Begin TLS negotiation.");
  drop_buffered_input_ = true;
  waiting_ = Waiting::kTls;
}

void SessionCore::on_tls_started(TlsInfo info) {
  if (state_ == SessionState::kClosed) {
    return;
  }
  // Valid before start() (implicit TLS, RFC 8314 §3) or as the answer to kStartTls.
  if (tls_active_ || (started_ && waiting_ != Waiting::kTls)) {
    log::error("unexpected-tls-started").kv("rip", remote_ip_);  // a driver bug
    abort(CloseReason::kIoError);
    return;
  }
  tls_active_ = true;
  tls_ = std::move(info);
  if (waiting_ == Waiting::kTls) {
    waiting_ = Waiting::kNothing;
    // RFC 2595 §4: start afresh inside TLS; nothing learnt before it (a USER) carries over.
    splitter_.clear();
    splitter_discarding_ = false;
    user_accepted_ = false;
    user_.clear();
  }
}

void SessionCore::handle_utf8(const ParsedCommand&) {
  // RFC 6856 §2: from now on user names and passwords are UTF-8 (SASLprep'd); message
  // content is sent as stored either way.
  utf8_ = true;
  reply_ok("UTF8 enabled.");
}

void SessionCore::handle_lang(const ParsedCommand& command) {
  // RFC 6856 §3: English is the only language; no argument lists it, "en" or "*" (the
  // server's choice) selects it, anything else leaves the language unchanged.
  std::string_view range = command.args.first;
  if (range.empty()) {
    reply_ok("Language listing follows.");
    append_data_line(out(), "en English");
    append_terminator(out());
    return;
  }
  const bool english = range == "*" || (range.size() == 2 && (range[0] == 'e' || range[0] == 'E') &&
                                        (range[1] == 'n' || range[1] == 'N'));
  if (english) {
    reply_ok("en Language set to English.");
    return;
  }
  reply_err("Unsupported language.");
}

void SessionCore::handle_quit_authorization(const ParsedCommand&) {
  // RFC 1939 §4: QUIT before login ends the session without UPDATE.
  reply_ok("Bye.");
  close(CloseReason::kQuit);
}

void SessionCore::handle_capa(const ParsedCommand&) {
  reply_ok("Capability list follows.");
  std::string& o = out();
  for (const std::string& line : capabilities(config_, capa_state())) {
    append_data_line(o, line);
  }
  append_terminator(o);
}

void SessionCore::start_authentication(auth::AuthRequest request, std::string_view method) {
  request.remote_ip = remote_ip_;
  auth_request_ = std::move(request);
  login_method_ = method;
  waiting_ = Waiting::kAuth;
}

void SessionCore::on_auth_result(auth::AuthResult result) {
  if (waiting_ != Waiting::kAuth) {
    log::error("unexpected-auth-result").kv("rip", remote_ip_);  // a driver bug; ignore it
    return;
  }
  waiting_ = Waiting::kNothing;
  // The password has been checked: wipe it now, whatever the outcome.
  auth_request_.password.wipe();
  auth_request_.apop_digest.clear();
  auth_request_.cram_digest.clear();
  if (state_ == SessionState::kClosed) {
    return;
  }
  if (sasl_phase_ == SaslPhase::kLookup) {
    on_scram_lookup(std::move(result));
    return;
  }
  // PASS, APOP, and SASL PLAIN/LOGIN/CRAM-MD5: the check's outcome is the exchange's outcome.
  end_sasl();
  if (!result.status.is_ok()) {
    // The Status message is for operators and never holds a secret (base/status.h).
    log::info("auth-failed")
        .kv("user", user_)
        .kv("rip", remote_ip_)
        .kv("method", login_method_)
        .kv("reason", result.status.to_string());
    login_failed(map_error(result.status.code(), Operation::kAuthenticate));
    return;
  }
  user_record_ = std::move(result.user);
  if (user_record_.name.empty()) {
    user_record_.name = user_;
  }
  waiting_ = Waiting::kMaildrop;  // RFC 1939 §4: lock the maildrop before saying +OK
}

void SessionCore::on_maildrop_opened(Result<store::MaildropPtr> maildrop) {
  if (waiting_ != Waiting::kMaildrop) {
    log::error("unexpected-maildrop").kv("rip", remote_ip_);  // a driver bug; ignore it
    return;                                                   // dropping it releases its lock
  }
  waiting_ = Waiting::kNothing;
  if (state_ == SessionState::kClosed) {
    return;
  }
  if (!maildrop.is_ok() || !*maildrop) {
    Status status =
        maildrop.is_ok() ? Status::temporary("driver reported no maildrop") : maildrop.status();
    log::warning("login-failed")
        .kv("user", log_user())
        .kv("rip", remote_ip_)
        .kv("method", login_method_)
        .kv("reason", status.to_string());
    // RFC 1939 §4: -ERR and stay in AUTHORIZATION; there is no maildrop, hence no lock held.
    user_record_ = auth::UserRecord{};
    login_failed(map_error(status.code(), Operation::kOpenMaildrop));
    return;
  }
  auto inbox = std::make_unique<OpenFolder>();
  inbox->name = "INBOX";
  inbox->maildrop = std::move(*maildrop);
  selected_ = inbox.get();
  open_folders_.push_back(std::move(inbox));
  enter_transaction();
}

void SessionCore::login_failed(const WireError& error) {
  ++auth_failures_;
  reply_err(error.text, error.code);
  if (config_.max_auth_failures != 0 && auth_failures_ >= config_.max_auth_failures) {
    // RFC 1939 §4: the server may close after a failed authentication.
    close(CloseReason::kTooManyAuthFailures);
  }
}

void SessionCore::enter_transaction() {
  const auto& messages = drop().messages();
  deleted().assign(messages.size(), false);  // RFC 1939 §4: nothing marked at the start
  recount();
  state_ = SessionState::kTransaction;
  bad_commands_ = 0;                            // the after-login limit counts afresh
  splitter_.set_max_line_octets(line_limit());  // commands only from now on
  log::Event event = log::info("login");
  event.kv("user", log_user())
      .kv("rip", remote_ip_)
      .kv("method", login_method_)
      .kv("messages", static_cast<uint64_t>(messages.size()));
  if (tls_active_) {
    event.kv("tls", tls_.version).kv("cipher", tls_.cipher);  // RFC 8314 §4.x: record TLS use
  }
  reply_ok("Logged in, maildrop has " + maildrop_summary() + ".");
}

}  // namespace poplar::pop3
