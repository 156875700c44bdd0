// ServerStream: `poplar fetch`'s connection to one POP3 server. TCP to each address of the host
// in turn (as getaddrinfo orders them, IPv6 and IPv4) with a connect timeout; then, when asked,
// TLS (RFC 8314 implicit TLS before the greeting, or RFC 2595 STLS later) with the server's
// certificate checked by the context given (tls::make_client_ctx: chain against --ca-file or the
// system store, name per RFC 6125 / RFC 7817) or pinned: with a SHA-256 fingerprint the chain is
// not consulted and the leaf certificate must match the pin exactly.
//
// Blocking on purpose: each account runs on its own thread (accounts fetch in parallel, and a
// delivery's fsync may block for long), so a plain descriptor with poll(2) against a deadline is
// the whole event loop. Every wait is bounded (io_timeout): a server that goes silent costs at
// most that, never a hang.
//
// Errors: kTemporary for everything a later retry may cure (name lookup failure, refused,
// unreachable, reset, timeout, the peer closing mid-handshake); kPermanent for a certificate
// that fails its check or does not match the pin (retrying will not help, and `poplar fetch`
// must not fall back to plaintext); kInvalidInput for a bad pin or host.
//
// Must never: send a byte in the clear once TLS was asked for and failed; log or return
// channel-binding data except through tls_info() for SASL. The first connect() sets SIGPIPE to
// be ignored process-wide (OpenSSL writes the socket itself; a server that closed first must
// cost a failed write, not the process).
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "tls/tls_connection.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace poplar::fetch {

struct StreamTimeouts {
  std::chrono::milliseconds connect{30'000};
  // Longest wait for any one read or write (and for the TLS handshake as a whole).
  std::chrono::milliseconds io{120'000};
};

class ServerStream {
 public:
  // Connects to host:port (host is a name, an IPv4 address or an IPv6 address without brackets).
  static Result<std::unique_ptr<ServerStream>> connect(const std::string& host, uint16_t port,
                                                       StreamTimeouts timeouts = {});
  ~ServerStream();
  ServerStream(const ServerStream&) = delete;
  ServerStream& operator=(const ServerStream&) = delete;

  // Runs the TLS handshake on the open connection. `ctx` decides how the chain and name are
  // checked; with a non-empty `pin_sha256` (32 octets, tls::parse_fingerprint) the leaf
  // certificate must have exactly that SHA-256 (use tls::make_unverified_client_ctx then).
  Status start_tls(ssl_ctx_st* ctx, const std::string& host, std::string_view pin_sha256 = {});

  // Reads what has arrived (waiting up to the I/O timeout); 0 when the server closed.
  Result<size_t> read_some(std::span<char> out);
  // Writes all of data (waiting up to the I/O timeout for each part).
  Status write_all(std::string_view data);

  bool tls_active() const { return tls_ != nullptr; }
  // The handshake's outcome (version, cipher, channel bindings for SCRAM-*-PLUS, the
  // certificate's fingerprint). Empty before start_tls().
  const tls::HandshakeInfo& tls_info() const { return tls_info_; }
  // "192.0.2.1:995" or "[2001:db8::1]:995": the address actually connected to.
  const std::string& peer() const { return peer_; }

 private:
  ServerStream(int fd, std::string peer, StreamTimeouts timeouts);
  // Waits until fd is readable (or writable) or the deadline passes; kTemporary on timeout.
  Status wait(bool for_write, std::chrono::steady_clock::time_point deadline);

  int fd_;
  std::string peer_;
  StreamTimeouts timeouts_;
  std::unique_ptr<tls::TlsConnection> tls_;
  tls::HandshakeInfo tls_info_;
};

}  // namespace poplar::fetch
