// Server: the SessionHost of `poplar serve`. It ties the pieces together for every
// connection: the session policy from the config, authentication against the passwd-file on
// the worker pool, the failure throttle (delays and per-address turns), LOGIN-DELAY, and the
// Maildir store.
//
// Thread-safety: thread-safe (SessionHost contract).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "auth/authenticator.h"
#include "auth/failure_throttle.h"
#include "base/result.h"
#include "config/config.h"
#include "net/session_host.h"
#include "server/login_delay.h"
#include "store/maildrop.h"

namespace poplar::server {

class Server final : public net::SessionHost {
 public:
  explicit Server(config::ServerConfig config);

  const config::ServerConfig& config() const { return config_; }

  pop3::SessionConfig session_config(const net::ConnectionInfo& connection) override;
  auth::AuthResult authenticate(const auth::AuthRequest& request) override;
  bool authenticates_cheaply(const auth::AuthRequest& request) override;
  bool opens_cheaply(const auth::UserRecord& user) override;
  net::AuthTurn admit_auth(const std::string& remote_ip, const std::string& user) override;
  std::chrono::milliseconds on_auth_failure(const std::string& remote_ip,
                                            const std::string& user) override;
  void on_auth_success(const std::string& remote_ip, const std::string& user) override;
  Result<store::MaildropPtr> open_maildrop(const auth::UserRecord& user) override;
  std::chrono::seconds login_timeout() const override;
  std::chrono::seconds idle_timeout() const override;

 private:
  config::ServerConfig config_;
  pop3::SessionConfig base_session_config_;
  auth::Authenticator authenticator_;
  auth::FailureThrottle throttle_;
  // The auth-throttled summary of refused attempts is logged at most once a second, with a
  // count of the ones not logged: a refusal costs the client nothing. (The session logs each
  // attempt's own auth-failed line, the event fail2ban counts.)
  std::mutex refusal_log_mutex_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  uint64_t refusals_not_logged_ = 0;
  LoginDelay login_delay_;
  store::MailStorePtr store_;
};

}  // namespace poplar::server
