// ServerSession: one POP3 server conversation as a sans-I/O state machine (h11, Envoy codec,
// Beast parser). Bytes in through receive(), bytes out through pending_output() /
// consume_output(), and everything that needs the outside world (checking a password,
// opening and locking a maildrop, committing deletions) is an Action that the driver (net/)
// performs and reports back. No sockets, no files, no threads, no Asio, no OpenSSL here.
//
// The driver's loop:
//   session.start();
//   for (;;) switch (auto a = session.next_action(); a.kind) {
//     case kWrite:        write pending_output(); consume_output(n);           break;
//     case kRead:         read bytes; receive(bytes) (or on_eof());             break;
//     case kAuthenticate: on_auth_result(authenticate(auth_request()));         break;
//     case kOpenMaildrop: on_maildrop_opened(open(authenticated_user()));       break;
//     case kCommitUpdate: on_update_committed(run_update());                     break;
//     case kClose:        flush nothing more; close the connection;             return;
//   }
// Responses are produced strictly in command order (PIPELINING, RFC 2449 §6.6): a command is
// processed only after the previous response has been fully queued. Long replies (RETR, TOP,
// LIST, UIDL) are produced incrementally: pending_output() holds at most about
// kHighWatermarkOctets, and next_action() refills it as the driver drains it, so memory per
// session stays small whatever the message size.
//
// Thread-safety: not thread-safe; one session per connection, used from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_request.h"
#include "base/clock.h"
#include "base/random.h"
#include "base/result.h"
#include "base/status.h"
#include "pop3/session_config.h"
#include "store/maildrop.h"

namespace poplar::pop3 {

enum class ActionKind {
  kRead,          // nothing to do until more input arrives
  kWrite,         // pending_output() is not empty: write it
  kAuthenticate,  // run auth_request() through the Authenticator, then on_auth_result()
  kOpenMaildrop,  // open and lock authenticated_user()'s maildrop, then on_maildrop_opened()
  kCommitUpdate,  // UPDATE state: run_update() (on a worker: it blocks), then on_update_committed()
  kClose,         // close the connection (after writing pending output, if any was queued)
  // STLS (RFC 2595 §4): pending_output() holds the "+OK" for STLS. The driver must first stop
  // reading plaintext and drop any input it holds (bytes pipelined behind STLS must never be
  // executed), then write pending_output(), run the TLS handshake, and call on_tls_started()
  // (or abort(kIoError) when the handshake fails).
  kStartTls,
};

enum class SessionState { kAuthorization, kTransaction, kUpdate, kClosed };

// Why a session ended, for the disconnect log line. kLineTooLong: unprocessed input beyond the
// session's cap (an over-long single command line only gets "-ERR Line too long.").
enum class CloseReason {
  kNone,
  kQuit,
  kPeerClosed,
  kTooManyBadCommands,
  kTooManyAuthFailures,
  kLineTooLong,
  kIoError,
  kTimeout,
  kShutdown
};

std::string_view close_reason_name(CloseReason reason);

class ServerSession {
 public:
  // High/low watermarks for output buffered in the session (Dovecot throttles at 4 KiB;
  // Poplar uses larger blocks for throughput, refilled when below the low mark).
  static constexpr size_t kHighWatermarkOctets = 64 * 1024;
  static constexpr size_t kLowWatermarkOctets = 16 * 1024;

  // clock and random must outlive the session. remote_ip is for logs only.
  ServerSession(SessionConfig config, const Clock& clock, Random& random, std::string remote_ip);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Queues the greeting. Call once, first.
  void start();

  // Input from the peer (untrusted bytes, any split). Buffered and processed by next_action().
  void receive(std::string_view bytes);
  // The peer closed its side. A session that did not QUIT ends without UPDATE (RFC 1939 §6).
  void on_eof();
  // The driver gave up on the connection (idle timeout, write error, server shutdown).
  void abort(CloseReason reason);

  ActionKind next_action();

  // The view stays valid until the next call to next_action(), consume_output(), start() or
  // abort(); receive() and on_eof() never touch the output, so a driver may read while a
  // write of this view is in flight. Empty whenever next_action() returns kClose.
  std::string_view pending_output() const;
  void consume_output(size_t n);

  // For a driver that reads while it writes: false once about 64 KiB of unprocessed input is
  // buffered (stop reading until it is true again, or until next_action() returns kRead).
  // Input far beyond that ends the session (CloseReason::kLineTooLong). A driver that reads
  // only on kRead never needs this.
  bool wants_input() const;
  // Approximate octets held in this session's buffers (output, input, read block, the MIME
  // structure PART keeps), for memory tests and accounting. A few hundred octets when idle.
  size_t buffer_footprint_octets() const;

  // Valid while next_action() returns kAuthenticate.
  const auth::AuthRequest& auth_request() const;
  void on_auth_result(auth::AuthResult result);
  // A failed login the session decided without a kAuthenticate action: a SCRAM proof that did
  // not match (the lookup action only fetched credentials, so the driver saw no failure).
  // Returns the user name once, then nothing until the next such failure. A driver that slows
  // password guessing (net/: per-address delays) checks it before writing output and treats it
  // like a kAuthFailed result of authenticate(): count it, then hold the -ERR for the delay.
  std::optional<std::string> take_unreported_auth_failure();

  // Valid while next_action() returns kOpenMaildrop (and after login).
  const auth::UserRecord& authenticated_user() const;
  // Errors are mapped to the wire by pop3/error_mapping: kInUse → [IN-USE], kLoginDelay →
  // [LOGIN-DELAY], kTemporary → [SYS/TEMP], other → [SYS/PERM].
  void on_maildrop_opened(Result<store::MaildropPtr> maildrop);

  // Valid while next_action() returns kCommitUpdate: applies what the session marked (DELE,
  // and with POP4 the removal half of MOVE and FLAG changes) to every folder it touched,
  // through the store's commit_update(). Blocking (unlinks, renames, fsync): a driver runs it
  // on a worker thread; the session is not used by anyone else meanwhile. Logs each failure.
  Status run_update();
  void on_update_committed(Status status);

  // TLS is up: after kStartTls, or before start() on an implicit-TLS listener (RFC 8314).
  // From now on CAPA drops STLS, plaintext mechanisms and USER become usable, and SCRAM-*-PLUS
  // may be offered with these channel bindings.
  void on_tls_started(TlsInfo info);

  SessionState state() const;
  bool logged_in() const { return state() == SessionState::kTransaction; }
  CloseReason close_reason() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace poplar::pop3
