// SessionHost: what a connection needs from the server it belongs to. net/ drives the
// protocol; server/ decides how to authenticate, where maildrops are and which policy applies.
// Keeping this an interface keeps net/ free of auth/, store/ and config/ implementations.
//
// Thread-safety: authenticate() and open_maildrop() are called on worker threads, possibly
// concurrently; the other methods on I/O threads. Implementations must be thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "auth/auth_request.h"
#include "base/result.h"
#include "pop3/session_config.h"
#include "store/maildrop.h"

namespace poplar::net {

// What a listener does about TLS ([[listen]] tls): plain, plain offering STLS (RFC 2595), or
// TLS from the first byte (RFC 8314).
enum class TlsMode { kNone, kStartTls, kImplicit };

struct ConnectionInfo {
  std::string remote_ip;
  uint16_t remote_port = 0;
  std::string local_address;  // host:port of the listener
  bool loopback = false;
  TlsMode tls_mode = TlsMode::kNone;  // of the listener that accepted the connection
  bool secure = false;                // TLS active (set by the Connection after the handshake)
};

// Whether a password check may run now (SessionHost::admit_auth).
struct AuthTurn {
  // Wait this long before checking the password (the remote address's turn; 0: at once).
  std::chrono::milliseconds wait{0};
  // Do not check it at all: answer -ERR [SYS/TEMP] now (the turn is too far away).
  bool refused = false;
};

class SessionHost {
 public:
  virtual ~SessionHost() = default;

  virtual pop3::SessionConfig session_config(const ConnectionInfo& connection) = 0;

  // Blocking (password hashing): runs on the worker pool, or on the I/O thread when
  // authenticates_cheaply(request) says it costs microseconds (a worker-pool round trip costs
  // more than a {PLAIN} comparison).
  virtual auth::AuthResult authenticate(const auth::AuthRequest& request) = 0;
  virtual bool authenticates_cheaply(const auth::AuthRequest&) { return false; }
  // Called before every password check (any mechanism), on the I/O thread: an address that
  // has failed recently gets its checks one at a time, so parallel connections do not get
  // parallel guesses. Takes the attempt's turn; the caller waits it out without blocking.
  virtual AuthTurn admit_auth(const std::string& remote_ip, const std::string& user) = 0;
  // How long to wait before telling the client that its login failed (grows with repeated
  // failures per address and per user). Records the failure.
  virtual std::chrono::milliseconds on_auth_failure(const std::string& remote_ip,
                                                    const std::string& user) = 0;
  virtual void on_auth_success(const std::string& remote_ip, const std::string& user) = 0;

  // Blocking (directory scans, index reads): runs on the worker pool. Enforces LOGIN-DELAY.
  virtual Result<store::MaildropPtr> open_maildrop(const auth::UserRecord& user) = 0;
  // True when open_maildrop(user) is expected to take microseconds (see
  // store::MailStore::open_is_cheap); the connection then opens it on its own thread, saving
  // two thread hand-offs per login. Called on the I/O thread; at most a stat(2).
  virtual bool opens_cheaply(const auth::UserRecord&) { return false; }

  // Inactivity limits: before login and after login (RFC 1939 §3: at least 10 minutes).
  virtual std::chrono::seconds login_timeout() const = 0;
  virtual std::chrono::seconds idle_timeout() const = 0;
};

}  // namespace poplar::net
