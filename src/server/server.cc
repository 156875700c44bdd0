#include "server/server.h"

#include <algorithm>
#include <utility>

#include "base/clock.h"
#include "base/log.h"
#include "store/fs/file_system.h"
#include "store/maildir/maildir_store.h"

namespace poplar::server {
namespace {

constexpr std::chrono::seconds kRefusalLogInterval{1};

pop3::SessionConfig make_session_config(const config::ServerConfig& config) {
  pop3::SessionConfig s;
  s.hostname = config.hostname;
  s.implementation = std::string("Poplar-") + POPLAR_VERSION;
  s.apop = config.auth.apop;
  s.sasl_mechanisms = config.auth.mechanisms;
  s.expire_days = config.pop3.expire_days;
  s.login_delay_s = config.pop3.login_delay_s;
  s.max_auth_failures = config.auth.max_failures;
  s.max_bad_commands_after_login = config.limits.max_bad_commands;
  s.max_bad_commands_before_login = std::min<uint32_t>(config.limits.max_bad_commands, 10);
  s.max_stor_octets = config.limits.max_stor_octets;
  const auto& w = config.pop3.client_workarounds;
  s.workaround_outlook_no_nuls = std::find(w.begin(), w.end(), "outlook-no-nuls") != w.end();
  s.workaround_oe_ns_eoh = std::find(w.begin(), w.end(), "oe-ns-eoh") != w.end();
  s.refuse_utf8_headers = config.pop3.refuse_utf8_headers;
  s.pop4_banner = config.pop4.enabled && config.pop4.banner;
  // [pop4] enabled turns on every POP4 ability that is built (docs/pop4.md).
  s.pop4.parts = config.pop4.enabled;
  s.pop4.flags = config.pop4.enabled;
  s.pop4.folders = config.pop4.enabled;
  return s;
}

}  // namespace

Server::Server(config::ServerConfig config)
    : config_(std::move(config)),
      base_session_config_(make_session_config(config_)),
      authenticator_(config_.auth.passwd_file, SystemClock::instance()),
      throttle_(SystemClock::instance(),
                auth::FailureThrottleOptions{
                    .base_delay = std::chrono::seconds(config_.auth.failure_delay_s)}),
      login_delay_(SystemClock::instance(), std::chrono::seconds(config_.pop3.login_delay_s)),
      store_(std::make_unique<store::maildir::MaildirStore>(store::fs::posix_file_system())) {}

pop3::SessionConfig Server::session_config(const net::ConnectionInfo& connection) {
  pop3::SessionConfig s = base_session_config_;
  // RFC 2595 §2.3 / RFC 8314: passwords in the clear only where nobody can listen. On an
  // implicit-TLS listener no command is read before the handshake, so the session is secure
  // from its first command; after STLS the session itself lifts the restriction
  // (ServerSession::on_tls_started).
  s.plaintext_allowed = connection.secure || connection.tls_mode == net::TlsMode::kImplicit ||
                        connection.loopback || config_.auth.plaintext_without_tls;
  // RFC 2595 §4: STLS only where the listener says so (serve refuses TLS listeners without a
  // certificate, so the handshake can happen).
  s.starttls_available = connection.tls_mode == net::TlsMode::kStartTls && !connection.secure;
  return s;
}

auth::AuthResult Server::authenticate(const auth::AuthRequest& request) {
  return authenticator_.authenticate(request);
}

bool Server::authenticates_cheaply(const auth::AuthRequest& request) {
  return authenticator_.is_cheap(request);
}

net::AuthTurn Server::admit_auth(const std::string& remote_ip, const std::string& user) {
  const auth::Admission admission = throttle_.admit(remote_ip);
  if (admission.kind != auth::Admission::Kind::kRefused) {
    return net::AuthTurn{.wait = admission.wait, .refused = false};
  }
  uint64_t not_logged = 0;
  {
    std::lock_guard lock(refusal_log_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_refusal_log_ < kRefusalLogInterval) {
      ++refusals_not_logged_;
      return net::AuthTurn{.wait = std::chrono::milliseconds(0), .refused = true};
    }
    last_refusal_log_ = now;
    not_logged = std::exchange(refusals_not_logged_, 0);
  }
  // The user as the client sent it (like auth-failed); never anything of the password.
  log::warning("auth-throttled")
      .kv("user", user)
      .kv("rip", remote_ip)
      .kv("turn_in_s", static_cast<int64_t>(admission.wait.count() / 1000))
      .kv("not_logged", not_logged);
  return net::AuthTurn{.wait = std::chrono::milliseconds(0), .refused = true};
}

std::chrono::milliseconds Server::on_auth_failure(const std::string& remote_ip,
                                                  const std::string& user) {
  return throttle_.delay_after_failure(remote_ip, user);
}

void Server::on_auth_success(const std::string& remote_ip, const std::string& user) {
  throttle_.record_success(remote_ip, user);
}

bool Server::opens_cheaply(const auth::UserRecord& user) {
  config::MailUser fields{user.name, user.home};
  auto path =
      config::expand_mail_location(user.mail.empty() ? config_.mail.location : user.mail, fields);
  return path && store_->open_is_cheap(*path);
}

Result<store::MaildropPtr> Server::open_maildrop(const auth::UserRecord& user) {
  if (!login_delay_.allowed(user.name)) {
    return Status::error(ErrorCode::kLoginDelay, "login-delay not yet passed");
  }
  config::MailUser fields{user.name, user.home};
  auto path =
      config::expand_mail_location(user.mail.empty() ? config_.mail.location : user.mail, fields);
  if (!path) {
    log::error("mail-location").kv("user", user.name).kv("error", path.status().message());
    return Status::permanent(path.status().message());
  }
  auto maildrop = store_->open_maildrop(*path);
  if (maildrop) {
    login_delay_.record(user.name);
  } else if (maildrop.status().code() != ErrorCode::kInUse) {
    log::error("maildrop-open-failed")
        .kv("user", user.name)
        .kv("path", *path)
        .kv("error", maildrop.status().to_string());
  }
  return maildrop;
}

std::chrono::seconds Server::login_timeout() const {
  return std::chrono::seconds(config_.limits.login_timeout_s);
}

std::chrono::seconds Server::idle_timeout() const {
  return std::chrono::seconds(config_.limits.idle_timeout_s);
}

}  // namespace poplar::server
