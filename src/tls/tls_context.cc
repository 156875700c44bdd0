// Server and client TLS contexts, reload, and the self-signed certificate writer. See
// tls_context.h.
//
// Thread-safety: see tls_context.h.
#include "tls/tls_context.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace poplar::tls {
namespace {

// RFC 9325 §4.2 / Mozilla "intermediate": forward secrecy (ECDHE) and AEAD only for TLS 1.2.
// TLS 1.3 suites are all AEAD with ephemeral keys; OpenSSL's default order is kept.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// RFC 7301 wire format: length-prefixed names. POP3's ALPN id is "pop3" (IANA registry).
constexpr unsigned char kAlpnPop3[] = {4, 'p', 'o', 'p', '3'};

// Self-signed demo and test certificates: 10 years, so a demo directory keeps working.
constexpr long kSelfSignedValiditySeconds = 10L * 365 * 24 * 3600;

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnPop3, sizeof kAlpnPop3, in, inlen) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  // RFC 7301 §3.2: a client that offers only protocols we do not speak gets
  // no_application_protocol rather than a POP3 server it did not ask for.
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

Status file_error(const std::string& what, const std::string& path) {
  // Distinguish "no such file" and "permission denied" from a bad PEM: the admin fixes those
  // differently, and the OpenSSL text alone ("system lib") says little.
  if (::access(path.c_str(), R_OK) != 0) {
    int err = errno;
    ERR_clear_error();
    return Status::from_errno(err, what + " " + path);
  }
  return Status::invalid_input(what + " " + path + ": " + take_openssl_errors());
}

// Base policy shared by server and client contexts.
Status apply_common_policy(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Status::temporary("TLS policy: " + take_openssl_errors());
  }
  // No compression (CRIME); no renegotiation at all (RFC 9325 §3.5 leaves it optional and it
  // has been a source of bugs and CPU-exhaustion attacks).
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Idle connections give their read/write buffers back; partial writes let the driver write
  // what the socket takes.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return Status::ok();
}

std::string hex_colons(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    if (i > 0) {
      out += ':';
    }
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

Status write_whole_file(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return Status::from_errno(errno, "create " + tmp);
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::from_errno(err, "write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::from_errno(err, "write " + tmp);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::from_errno(err, "rename " + tmp);
  }
  return Status::ok();
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
  if (ext == nullptr) {
    return false;
  }
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

void SslCtxDeleter::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }

std::string take_openssl_errors(const std::string& fallback) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    if (!out.empty()) {
      out += "; ";
    }
    out += buffer;
  }
  return out.empty() ? fallback : out;
}

Result<SslCtxPtr> make_server_ctx(const std::string& certificate_path,
                                  const std::string& private_key_path) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    return Status::temporary("SSL_CTX_new: " + take_openssl_errors());
  }
  if (Status s = apply_common_policy(ctx.get()); !s) {
    return s;
  }
  // The server picks among what the client offers, in our order (strongest first).
  SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Resumption by session tickets (stateless, RFC 8446 §4.6.1 / RFC 5077): no per-session
  // state on the server. The server-side cache would only grow memory; tickets stay on.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.get(), 1);
  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);

  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate_path.c_str()) != 1) {
    return file_error("TLS certificate", certificate_path);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), private_key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return file_error("TLS private key", private_key_path);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Status::invalid_input("TLS private key " + private_key_path +
                                 " does not match the certificate " + certificate_path + ": " +
                                 take_openssl_errors());
  }
  return ctx;
}

ServerContext::ServerContext(std::string certificate_path, std::string private_key_path,
                             std::shared_ptr<ssl_ctx_st> ctx)
    : certificate_path_(std::move(certificate_path)),
      private_key_path_(std::move(private_key_path)),
      ctx_(std::move(ctx)) {}

Result<std::unique_ptr<ServerContext>> ServerContext::load(std::string certificate_path,
                                                           std::string private_key_path) {
  auto ctx = make_server_ctx(certificate_path, private_key_path);
  if (!ctx) {
    return ctx.status();
  }
  std::shared_ptr<ssl_ctx_st> shared(ctx->release(), SslCtxDeleter{});
  return std::unique_ptr<ServerContext>(
      new ServerContext(std::move(certificate_path), std::move(private_key_path), shared));
}

Status ServerContext::reload() {
  auto ctx = make_server_ctx(certificate_path_, private_key_path_);
  if (!ctx) {
    return ctx.status();
  }
  // Connections hold their own reference (SSL_new), so the old SSL_CTX lives on until the
  // last session that uses it ends.
  ctx_.store(std::shared_ptr<ssl_ctx_st>(ctx->release(), SslCtxDeleter{}));
  return Status::ok();
}

Result<std::unique_ptr<TlsConnection>> ServerContext::new_connection(int fd) const {
  std::shared_ptr<ssl_ctx_st> ctx = ctx_.load();
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx.get());
  if (ssl == nullptr) {
    return Status::temporary("SSL_new: " + take_openssl_errors());
  }
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return Status::temporary("SSL_set_fd: " + take_openssl_errors());
  }
  SSL_set_accept_state(ssl);
  return std::make_unique<TlsConnection>(ssl);
}

std::string ServerContext::fingerprint() const {
  std::shared_ptr<ssl_ctx_st> ctx = ctx_.load();
  X509* cert = SSL_CTX_get0_certificate(ctx.get());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), digest, &length) != 1) {
    ERR_clear_error();
    return "";
  }
  return hex_colons(digest, length);
}

namespace {

// A client context with the common policy (protocols, ciphers) and no trust decided yet.
Result<SslCtxPtr> new_client_ctx() {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    return Status::temporary("SSL_CTX_new: " + take_openssl_errors());
  }
  if (Status s = apply_common_policy(ctx.get()); !s) {
    return s;
  }
  return ctx;
}

}  // namespace

Result<SslCtxPtr> make_client_ctx(const std::string& ca_file) {
  auto ctx = new_client_ctx();
  if (!ctx.is_ok()) {
    return ctx;
  }
  SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_PEER, nullptr);
  int ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx->get())
                           : SSL_CTX_load_verify_locations(ctx->get(), ca_file.c_str(), nullptr);
  if (ok != 1) {
    return Status::invalid_input("TLS CA file " + (ca_file.empty() ? "(system)" : ca_file) + ": " +
                                 take_openssl_errors());
  }
  return ctx;
}

Result<SslCtxPtr> make_unverified_client_ctx() {
  auto ctx = new_client_ctx();
  if (ctx.is_ok()) {
    SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

std::string format_fingerprint(std::string_view sha256) {
  return hex_colons(reinterpret_cast<const unsigned char*>(sha256.data()), sha256.size());
}

Result<std::string> parse_fingerprint(std::string_view text) {
  std::string out;
  int high = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':') {
      if (high >= 0 || i == 0 || i + 1 == text.size() || text[i - 1] == ':') {
        return Status::invalid_input("fingerprint: a ':' must separate whole hex pairs");
      }
      continue;
    }
    int digit = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
    if (digit < 0) {
      return Status::invalid_input("fingerprint: not a hex digit at position " +
                                   std::to_string(i + 1));
    }
    if (high < 0) {
      high = digit;
    } else {
      out.push_back(static_cast<char>(high * 16 + digit));
      high = -1;
    }
  }
  if (high >= 0 || out.size() != 32) {
    return Status::invalid_input(
        "fingerprint: a SHA-256 fingerprint has 64 hex digits (32 pairs), this has " +
        std::to_string(out.size() * 2 + (high >= 0 ? 1 : 0)));
  }
  return out;
}

Result<std::unique_ptr<TlsConnection>> new_client_connection(ssl_ctx_st* ctx, int fd,
                                                             const std::string& host) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) {
    return Status::temporary("SSL_new: " + take_openssl_errors());
  }
  auto connection = std::make_unique<TlsConnection>(ssl);
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  bool is_ip = ip != nullptr;
  ASN1_OCTET_STRING_free(ip);
  ERR_clear_error();
  // RFC 6066 §3: SNI carries host names only, never IP literals. SSL_set1_host matches DNS-IDs
  // with wildcards only as the whole left-most label (RFC 6125 §6.4.3).
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if ((!is_ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) ||
      (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str())
             : SSL_set1_host(ssl, host.c_str())) != 1 ||
      SSL_set_fd(ssl, fd) != 1) {
    return Status::invalid_input("TLS client for " + host + ": " + take_openssl_errors());
  }
  SSL_set_connect_state(ssl);
  return connection;
}

Status write_self_signed(const std::string& cert_path, const std::string& key_path,
                         const std::vector<std::string>& hostnames) {
  ERR_clear_error();
  auto fail = [](const char* what) { return Status::temporary(what + take_openssl_errors()); };
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  if (!key) {
    return fail("EC key generation: ");
  }
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!cert) {
    return fail("X509_new: ");
  }
  unsigned char serial_bytes[16];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) {
    return fail("RAND_bytes: ");
  }
  serial_bytes[0] &= 0x7f;  // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  bool ok =
      serial != nullptr && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
      BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kSelfSignedValiditySeconds) != nullptr &&
      X509_set_pubkey(cert.get(), key.get()) == 1;
  BN_free(serial);
  std::string cn = hostnames.empty() ? "localhost" : hostnames.front();
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                  0) == 1 &&
       X509_set_issuer_name(cert.get(), name) == 1;
  std::string san;
  for (const std::string& host : hostnames) {
    san += "DNS:" + host + ",";
  }
  san += "IP:127.0.0.1";
  ok = ok && add_extension(cert.get(), NID_subject_alt_name, san) &&
       add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
       add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
       add_extension(cert.get(), NID_ext_key_usage, "serverAuth") &&
       add_extension(cert.get(), NID_subject_key_identifier, "hash") &&
       X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) {
    return fail("self-signed certificate: ");
  }
  std::unique_ptr<BIO, BioDeleter> key_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioDeleter> cert_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || !cert_bio ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1 ||
      PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) {
    return fail("PEM encoding: ");
  }
  // The key first, readable by its owner only; then the certificate, so that a half-done
  // write never leaves a certificate without its key.
  if (Status s = write_whole_file(key_path, bio_text(key_bio.get()), 0600); !s) {
    return s;
  }
  return write_whole_file(cert_path, bio_text(cert_bio.get()), 0644);
}

}  // namespace poplar::tls
