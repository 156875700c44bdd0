// TlsConnection: one TLS connection over a non-blocking socket, as steps that never block.
// Each call does what it can and says what it waits for (kWantRead / kWantWrite); the driver
// (net/Connection) waits for the socket to become readable or writable and calls again. This
// keeps OpenSSL out of net/ and lets OpenSSL read and write the socket directly, so the only
// per-connection buffers are OpenSSL's own (released when idle, SSL_MODE_RELEASE_BUFFERS).
//
// One read and one write may be in progress at the same time (one caller each); a write that
// returned kWantRead/kWantWrite must be repeated with the same data.
//
// Never: call into OpenSSL after the socket was closed (the descriptor may already belong to
// another connection); the driver must drop or stop using this object first. Never log
// secrets: info() holds channel-binding data for SASL, not for logs.
//
// Thread-safety: not thread-safe; used from the one thread of its connection.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;  // OpenSSL's SSL

namespace poplar::tls {

enum class IoState {
  kDone,       // the step completed (bytes > 0 for read/write)
  kWantRead,   // wait until the socket is readable, then repeat
  kWantWrite,  // wait until the socket is writable, then repeat
  kClosed,     // the peer ended the connection (close_notify or EOF)
  kError,      // a protocol or socket error; error_text() says which; the connection is dead
};

struct IoResult {
  IoState state = IoState::kDone;
  size_t bytes = 0;
};

// What the handshake negotiated, for logs (RFC 8314 asks to record TLS use) and for SCRAM-*-PLUS
// channel binding.
struct HandshakeInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  std::string alpn;     // "pop3" or empty
  bool resumed = false;
  // RFC 9266: 32 octets of SSL_export_keying_material("EXPORTER-Channel-Binding"). Empty on TLS
  // 1.2 without the extended master secret, where RFC 9266 §3 says it must not be used.
  std::string tls_exporter;
  // RFC 5929 §4: the hash of the server's certificate (ours on the server side, the peer's on
  // the client side) with its signature's hash (SHA-256 for MD5 and SHA-1). Empty when the
  // signature has no separate hash (Ed25519): not defined there.
  std::string tls_server_end_point;
  // Client side: SHA-256 of the server's leaf certificate (32 octets), for certificate pinning
  // (`poplar fetch --fingerprint`). Empty on the server side.
  std::string peer_certificate_sha256;
};

class TlsConnection {
 public:
  // Takes ownership of ssl, which must already be bound to its socket.
  explicit TlsConnection(ssl_st* ssl);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  IoResult handshake();
  IoResult read(char* buffer, size_t size);
  IoResult write(std::string_view data);
  // Sends close_notify once if the connection is healthy (RFC 8446 §6.1); never waits for the
  // peer's. Best effort: a full socket buffer just means no alert.
  void close_notify();

  bool handshake_done() const;
  HandshakeInfo info() const;
  // The last error of a step that returned kError (OpenSSL's text or errno's).
  const std::string& error_text() const { return error_; }

 private:
  IoResult result_of(int ret, size_t bytes);

  ssl_st* ssl_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace poplar::tls
