// TlsConnection: non-blocking TLS steps over a socket. See tls_connection.h.
//
// Thread-safety: see tls_connection.h.
#include "tls/tls_connection.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>

#include "tls/tls_context.h"

namespace poplar::tls {
namespace {

// RFC 9266 §2: the label; 32 octets; an empty context.
constexpr char kExporterLabel[] = "EXPORTER-Channel-Binding";
constexpr size_t kExporterOctets = 32;

// The server's certificate: our own on the server side, the peer's on the client side (neither
// is a new reference).
X509* server_certificate(SSL* ssl) {
  return SSL_is_server(ssl) == 1 ? SSL_get_certificate(ssl) : SSL_get0_peer_certificate(ssl);
}

std::string server_end_point(SSL* ssl) {
  X509* cert = server_certificate(ssl);
  if (cert == nullptr) {
    return "";
  }
  int md_nid = NID_undef;
  int pk_nid = NID_undef;
  if (OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid) == 0 ||
      md_nid == NID_undef) {
    return "";
  }
  // RFC 5929 §4.1: MD5 and SHA-1 are replaced by SHA-256.
  if (md_nid == NID_md5 || md_nid == NID_sha1) {
    md_nid = NID_sha256;
  }
  const EVP_MD* md = EVP_get_digestbynid(md_nid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (md == nullptr || X509_digest(cert, md, digest, &length) != 1) {
    ERR_clear_error();
    return "";
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace

TlsConnection::TlsConnection(SSL* ssl) : ssl_(ssl) {}

TlsConnection::~TlsConnection() { SSL_free(ssl_); }

IoResult TlsConnection::result_of(int ret, size_t bytes) {
  if (ret == 1) {
    return {IoState::kDone, bytes};
  }
  int saved_errno = errno;
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return {IoState::kWantRead, 0};
    case SSL_ERROR_WANT_WRITE:
      return {IoState::kWantWrite, 0};
    case SSL_ERROR_ZERO_RETURN:
      return {IoState::kClosed, 0};
    case SSL_ERROR_SYSCALL:
      failed_ = true;
      if (ERR_peek_error() == 0) {
        // EOF without close_notify, or a socket error. OpenSSL 3 reports an unexpected EOF
        // as SSL_ERROR_SSL; errno 0 here still means the peer went away.
        if (saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE) {
          error_ = saved_errno == 0 ? "peer closed" : std::strerror(saved_errno);
          return {IoState::kClosed, 0};
        }
        error_ = std::strerror(saved_errno);
        return {IoState::kError, 0};
      }
      error_ = take_openssl_errors();
      return {IoState::kError, 0};
    default:
      failed_ = true;
      error_ = take_openssl_errors();
      if (long verify = SSL_get_verify_result(ssl_);
          SSL_is_server(ssl_) != 1 && verify != X509_V_OK) {
        // "certificate verify failed" alone does not say why; the chain check does.
        error_ += " (";
        error_ += X509_verify_cert_error_string(verify);
        error_ += ")";
      }
      if (error_.find("unexpected eof") != std::string::npos) {
        return {IoState::kClosed, 0};
      }
      return {IoState::kError, 0};
  }
}

IoResult TlsConnection::handshake() {
  // The error queue is per thread and shared by every connection on it: start clean so that
  // SSL_get_error() sees only this call's errors.
  ERR_clear_error();
  errno = 0;
  return result_of(SSL_do_handshake(ssl_), 0);
}

IoResult TlsConnection::read(char* buffer, size_t size) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  int ret = SSL_read_ex(ssl_, buffer, size, &n);  // n is set by the call: evaluate it first
  return result_of(ret, n);
}

IoResult TlsConnection::write(std::string_view data) {
  ERR_clear_error();
  errno = 0;
  size_t n = 0;
  int ret = SSL_write_ex(ssl_, data.data(), data.size(), &n);
  return result_of(ret, n);
}

void TlsConnection::close_notify() {
  // SSL_shutdown must not follow a fatal error (SSL_shutdown(3)), and there is nothing to end
  // before the handshake finished.
  if (failed_ || !SSL_is_init_finished(ssl_)) {
    return;
  }
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool TlsConnection::handshake_done() const { return SSL_is_init_finished(ssl_) == 1; }

HandshakeInfo TlsConnection::info() const {
  HandshakeInfo info;
  info.version = SSL_get_version(ssl_);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_); cipher != nullptr) {
    info.cipher = SSL_CIPHER_get_name(cipher);
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_length);
  if (alpn != nullptr) {
    info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  }
  info.resumed = SSL_session_reused(ssl_) == 1;
  // RFC 9266 §3: tls-exporter needs TLS 1.3, or TLS 1.2 with the extended master secret
  // (RFC 7627); otherwise the exporter is not unique to the connection.
  if (SSL_version(ssl_) >= TLS1_3_VERSION || SSL_get_extms_support(ssl_) == 1) {
    unsigned char out[kExporterOctets];
    // use_context = 0: RFC 9266 asks for an empty context, and in TLS 1.3 (RFC 8446 §7.5) an
    // empty and an absent context are the same; for TLS 1.2 this matches Go and GnuTLS.
    if (SSL_export_keying_material(ssl_, out, sizeof out, kExporterLabel, sizeof kExporterLabel - 1,
                                   nullptr, 0, 0) == 1) {
      info.tls_exporter.assign(reinterpret_cast<const char*>(out), sizeof out);
    }
    ERR_clear_error();
  }
  info.tls_server_end_point = server_end_point(ssl_);
  if (SSL_is_server(ssl_) != 1) {
    X509* peer = SSL_get0_peer_certificate(ssl_);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (peer != nullptr && X509_digest(peer, EVP_sha256(), digest, &length) == 1) {
      info.peer_certificate_sha256.assign(reinterpret_cast<const char*>(digest), length);
    }
    ERR_clear_error();
  }
  return info;
}

}  // namespace poplar::tls
