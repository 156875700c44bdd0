// Server: the SessionHost of `poplar serve`. It ties the pieces together for every
// connection: the session policy from the config, authentication against the passwd-file on
// the worker pool, the failure throttle, LOGIN-DELAY, and the Maildir store.
//
// Thread-safety: thread-safe (SessionHost contract).
#pragma once

#include <memory>

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
  LoginDelay login_delay_;
  store::MailStorePtr store_;
};

}  // namespace poplar::server
