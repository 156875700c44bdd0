// AUTHORIZATION-state handlers (RFC 1939 §4, §7; RFC 2449 §5; RFC 5034 bare AUTH) and the
// results of the authentication and maildrop actions. Which command reaches which handler is
// decided by command_table.cc alone.
//
// Must never: reveal whether a user exists (USER always says +OK, every credential failure
// has the same text: RFC 1939 §13), log or keep a password after its check (base/secret.h),
// or enter TRANSACTION without the maildrop lock (RFC 1939 §4).
// Thread-safety: not thread-safe; part of SessionCore.
#include <utility>

#include "base/log.h"
#include "pop3/capabilities.h"
#include "pop3/server_session_impl.h"

namespace poplar::pop3 {
namespace {

constexpr std::string_view kPlaintextDisabled =
    "Plaintext authentication is disabled on this connection; use TLS.";

}  // namespace

void SessionCore::handle_user(const ParsedCommand& command) {
  if (!config_.plaintext_allowed) {
    // SPEC R2449-6.2: USER is not in CAPA here; say why, with [AUTH] (a policy failure).
    reject_command(kPlaintextDisabled, ResponseCode::kAuth);
    return;
  }
  user_.assign(command.args.first);
  user_accepted_ = true;
  // RFC 1939 §13: +OK whether or not the user exists; PASS decides.
  reply_ok("Send your password.");
}

void SessionCore::handle_pass(const ParsedCommand& command) {
  if (!config_.plaintext_allowed) {
    reject_command(kPlaintextDisabled, ResponseCode::kAuth);
    return;
  }
  if (!pass_may_follow_) {
    reject_command("Send USER first.");  // RFC 1939 §7: only right after a successful USER
    return;
  }
  auth::AuthRequest request;
  request.method = auth::AuthMethod::kUserPass;
  request.user = user_;
  request.password = Secret(command.args.first);
  start_authentication(std::move(request), "USER");
}

void SessionCore::handle_apop(const ParsedCommand& command) {
  if (!config_.apop) {
    // No timestamp was in the greeting, so no digest can be right (RFC 1939 §7).
    reject_command("APOP is not enabled.");
    return;
  }
  user_.assign(command.args.first);
  auth::AuthRequest request;
  request.method = auth::AuthMethod::kApop;
  request.user = user_;
  request.apop_timestamp = apop_timestamp_;
  request.apop_digest.assign(command.args.second);
  start_authentication(std::move(request), "APOP");
}

void SessionCore::handle_auth(const ParsedCommand& command) {
  if (command.args.first.empty()) {
    // Bare AUTH lists the mechanisms (Outlook's discovery; SPEC PR-S-5). None is usable yet.
    reply_ok("Mechanisms follow.");
    append_terminator(out());
    return;
  }
  // Not an [AUTH] failure: no credentials were checked (RFC 3206 §5).
  reply_err("Unsupported authentication mechanism.");
}

void SessionCore::handle_stls(const ParsedCommand&) {
  // RFC 2595 §4: -ERR when TLS cannot be started. ActionKind gains kStartTls when it can.
  reply_err("STLS not available.");
}

void SessionCore::handle_quit_authorization(const ParsedCommand&) {
  // RFC 1939 §4: QUIT before login ends the session without UPDATE.
  reply_ok("Bye.");
  close(CloseReason::kQuit);
}

void SessionCore::handle_capa(const ParsedCommand&) {
  reply_ok("Capability list follows.");
  std::string& o = out();
  for (const std::string& line : capabilities(config_, state_)) {
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
  if (state_ == SessionState::kClosed) {
    return;
  }
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
  maildrop_ = std::move(*maildrop);
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
  const auto& messages = maildrop_->messages();
  deleted_.assign(messages.size(), false);  // RFC 1939 §4: nothing marked at the start
  recount();
  state_ = SessionState::kTransaction;
  bad_commands_ = 0;  // the after-login limit counts afresh
  log::info("login")
      .kv("user", log_user())
      .kv("rip", remote_ip_)
      .kv("method", login_method_)
      .kv("messages", static_cast<uint64_t>(messages.size()));
  reply_ok("Logged in, maildrop has " + maildrop_summary() + ".");
}

}  // namespace poplar::pop3
