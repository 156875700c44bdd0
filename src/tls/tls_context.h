// TLS contexts (OpenSSL 3 is confined to src/tls/): the server context built from the [tls]
// certificate chain and private key, its reload on SIGHUP, the client context `poplar fetch`
// will use, and a self-signed certificate writer for the demo and the tests.
//
// Policy (RFC 8314 §4.1, RFC 8996, RFC 9325): TLS 1.2 minimum, 1.3 preferred; for TLS 1.2 only
// ECDHE key exchange with AEAD ciphers; the server's cipher order; no compression (CRIME); no
// renegotiation; session tickets for resumption; ALPN "pop3" accepted (RFC 7301 §3.2: any
// other offered protocol list is refused with no_application_protocol).
//
// Never: log or return key material; read the key file after start-up except on reload()
// (the key is read before privileges are dropped; a reload as the mail user needs the key to
// be readable by it, otherwise reload() fails and the old key stays in use).
//
// Thread-safety: ServerContext is thread-safe: new_connection() may run on any I/O thread
// while reload() swaps the SSL_CTX (an atomic shared_ptr); a connection keeps the SSL_CTX it
// was created with (SSL_new takes a reference), so existing sessions are never disturbed.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "tls/tls_connection.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of includers' way

namespace poplar::tls {

// Owns one reference to an SSL_CTX.
struct SslCtxDeleter {
  void operator()(ssl_ctx_st* ctx) const;
};
using SslCtxPtr = std::unique_ptr<ssl_ctx_st, SslCtxDeleter>;

// The queued OpenSSL errors as one line ("error:0A000086:SSL routines::certificate verify
// failed; ..."), and the queue cleared. `fallback` when the queue is empty.
std::string take_openssl_errors(const std::string& fallback = "unknown TLS error");

// Builds a server SSL_CTX from a PEM certificate chain and a PEM private key.
// Error codes: kNotFound/kPermission (file), kInvalidInput (bad PEM, key does not match).
Result<SslCtxPtr> make_server_ctx(const std::string& certificate_path,
                                  const std::string& private_key_path);

class ServerContext {
 public:
  // Reads both files now. Errors as make_server_ctx.
  static Result<std::unique_ptr<ServerContext>> load(std::string certificate_path,
                                                     std::string private_key_path);

  // Builds a new SSL_CTX from the same paths and swaps it in; new handshakes use it, existing
  // connections keep theirs. On error the current context stays and the error is returned.
  Status reload();

  // A server-side TLS connection over a connected, non-blocking socket (not owned).
  // Error codes: kTemporary (out of memory or descriptors).
  Result<std::unique_ptr<TlsConnection>> new_connection(int fd) const;

  // SHA-256 fingerprint of the current leaf certificate, hex with colons (for logs).
  std::string fingerprint() const;

  const std::string& certificate_path() const { return certificate_path_; }

 private:
  ServerContext(std::string certificate_path, std::string private_key_path,
                std::shared_ptr<ssl_ctx_st> ctx);

  std::string certificate_path_;
  std::string private_key_path_;
  std::atomic<std::shared_ptr<ssl_ctx_st>> ctx_;
};

// A client SSL_CTX for `poplar fetch` (RFC 7817 / RFC 6125): peer verification against
// ca_file, or the system trust store when it is empty; TLS 1.2 minimum.
// Error codes: kInvalidInput (unreadable CA file), kTemporary.
Result<SslCtxPtr> make_client_ctx(const std::string& ca_file = "");

// A client SSL_CTX that checks neither the chain nor the name: the handshake completes whatever
// the server presents. Only for a caller that then compares HandshakeInfo::
// peer_certificate_sha256 with a pinned fingerprint (`poplar fetch --fingerprint`), and for test
// tools (`poplar bench --insecure-tls`). Error codes: kTemporary.
Result<SslCtxPtr> make_unverified_client_ctx();

// "AB:CD:...": a SHA-256 fingerprint (32 octets) as hex pairs with colons, as `openssl x509
// -fingerprint -sha256` prints it and as ServerContext::fingerprint() logs it.
std::string format_fingerprint(std::string_view sha256);
// The 32 octets of a SHA-256 fingerprint written as 64 hex digits, with or without colons
// between the pairs, any case. Error codes: kInvalidInput (with what was wrong).
Result<std::string> parse_fingerprint(std::string_view text);

// A client-side TLS connection over fd that sends SNI and checks the certificate name
// (host name or IP literal; wildcards only as the whole left-most label).
Result<std::unique_ptr<TlsConnection>> new_client_connection(ssl_ctx_st* ctx, int fd,
                                                             const std::string& host);

// Writes a self-signed certificate (EC P-256, SHA-256, valid 10 years, subjectAltName with the
// given DNS names plus IP 127.0.0.1; CN = the first name) and its key (mode 0600). Files are
// written whole (temporary file, then rename). Error codes: those of Status::from_errno,
// kTemporary for OpenSSL failures.
Status write_self_signed(const std::string& cert_path, const std::string& key_path,
                         const std::vector<std::string>& hostnames = {"localhost"});

}  // namespace poplar::tls
