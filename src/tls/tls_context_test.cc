// Tests for tls/: loading good and bad certificates, a key that does not match, reload keeping
// the old certificate on failure, the protocol floor (TLS 1.1 refused), ALPN, and what a
// handshake reports (version, cipher, channel bindings). Handshakes run in memory over a
// socketpair, both ends non-blocking and stepped in turn: no network, no threads.
#include "tls/tls_context.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>

#include "testing/temp_dir.h"

namespace poplar::tls {
namespace {

using ::testing::HasSubstr;

struct SocketPair {
  SocketPair() {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  }
  ~SocketPair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int fds[2] = {-1, -1};
};

// Steps both handshakes until each is done or one fails. Returns true when both completed.
bool handshake(TlsConnection& server, TlsConnection& client) {
  IoResult s{IoState::kWantRead, 0};
  IoResult c{IoState::kWantRead, 0};
  for (int i = 0; i < 100; ++i) {
    if (c.state != IoState::kDone) {
      c = client.handshake();
    }
    if (s.state != IoState::kDone) {
      s = server.handshake();
    }
    if (s.state == IoState::kDone && c.state == IoState::kDone) {
      return true;
    }
    if (s.state == IoState::kError || c.state == IoState::kError || s.state == IoState::kClosed ||
        c.state == IoState::kClosed) {
      return false;
    }
  }
  return false;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(write_self_signed(cert(), key(), {"localhost"}).is_ok()); }
  std::string cert() const { return (dir_.path() / "cert.pem").string(); }
  std::string key() const { return (dir_.path() / "key.pem").string(); }
  std::string path(const char* name) const { return (dir_.path() / name).string(); }

  std::unique_ptr<TlsConnection> client_for(int fd, const std::string& ca,
                                            const std::string& host = "localhost") {
    auto ctx = make_client_ctx(ca);
    EXPECT_TRUE(ctx.is_ok()) << ctx.status().to_string();
    client_ctx_ = std::move(*ctx);
    auto c = new_client_connection(client_ctx_.get(), fd, host);
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return std::move(*c);
  }

  testing::TempDir dir_;
  SslCtxPtr client_ctx_;
};

TEST_F(TlsTest, SelfSignedKeyIsPrivate) {
  struct stat st {};
  ASSERT_EQ(::stat(key().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(key() + ".tmp"));
}

TEST_F(TlsTest, HandshakeWithTrustedCertificateReportsTls13AndBindings) {
  auto server_ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(server_ctx.is_ok()) << server_ctx.status().to_string();
  EXPECT_EQ((*server_ctx)->fingerprint().size(), 32u * 3 - 1);
  SocketPair p;
  auto server = (*server_ctx)->new_connection(p.fds[0]);
  ASSERT_TRUE(server.is_ok());
  auto client = client_for(p.fds[1], cert());
  ASSERT_TRUE(handshake(**server, *client)) << (*server)->error_text() << client->error_text();
  HandshakeInfo info = (*server)->info();
  EXPECT_EQ(info.version, "TLSv1.3");  // 1.3 preferred
  EXPECT_THAT(info.cipher, ::testing::StartsWith("TLS_"));
  EXPECT_EQ(info.tls_exporter.size(), 32u);
  EXPECT_EQ(info.tls_server_end_point.size(), 32u);  // ECDSA-with-SHA256 → SHA-256
  // Both ends derive the same channel bindings (what SCRAM-SHA-256-PLUS relies on).
  EXPECT_EQ(client->info().tls_exporter, info.tls_exporter);

  // Application data both ways, then close_notify seen as a clean close.
  EXPECT_EQ((*server)->write("+OK hello\r\n").state, IoState::kDone);
  char buffer[64];
  IoResult r = client->read(buffer, sizeof buffer);
  ASSERT_EQ(r.state, IoState::kDone);
  EXPECT_EQ(std::string(buffer, r.bytes), "+OK hello\r\n");
  client->close_notify();
  r = (*server)->read(buffer, sizeof buffer);
  EXPECT_EQ(r.state, IoState::kClosed);
}

TEST_F(TlsTest, ClientRefusesWrongHostName) {
  auto server_ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(server_ctx.is_ok());
  SocketPair p;
  auto server = (*server_ctx)->new_connection(p.fds[0]);
  auto client = client_for(p.fds[1], cert(), "mail.example.org");
  EXPECT_FALSE(handshake(**server, *client));
  EXPECT_THAT(client->error_text(), HasSubstr("certificate verify failed"));
}

TEST_F(TlsTest, UntrustedChainFailsAndSaysWhy) {
  auto server_ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(server_ctx.is_ok());
  SocketPair p;
  auto server = (*server_ctx)->new_connection(p.fds[0]);
  ASSERT_TRUE(write_self_signed(path("other.pem"), path("other.key"), {"localhost"}).is_ok());
  auto client = client_for(p.fds[1], path("other.pem"));  // trusts another certificate
  EXPECT_FALSE(handshake(**server, *client));
  EXPECT_THAT(client->error_text(), HasSubstr("certificate verify failed ("));
  EXPECT_THAT(client->error_text(), HasSubstr("self-signed certificate"));
}

TEST_F(TlsTest, PinnedClientSeesTheServerFingerprintAndEndPoint) {
  // Without verification any certificate completes the handshake; the pin is the check.
  auto server_ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(server_ctx.is_ok());
  SocketPair p;
  auto server = (*server_ctx)->new_connection(p.fds[0]);
  auto ctx = make_unverified_client_ctx();
  ASSERT_TRUE(ctx.is_ok());
  auto client = new_client_connection(ctx->get(), p.fds[1], "wrong.example.org");
  ASSERT_TRUE(client.is_ok());
  ASSERT_TRUE(handshake(**server, **client)) << (*client)->error_text();
  HandshakeInfo info = (*client)->info();
  EXPECT_EQ(format_fingerprint(info.peer_certificate_sha256), (*server_ctx)->fingerprint());
  // tls-server-end-point (RFC 5929) is the same on both ends: SCRAM-*-PLUS over TLS 1.2.
  EXPECT_EQ(info.tls_server_end_point, (*server)->info().tls_server_end_point);
  EXPECT_TRUE((*server)->info().peer_certificate_sha256.empty());
}

TEST(FingerprintTest, ParsesHexWithOrWithoutColonsAndRefusesTheRest) {
  std::string raw(32, '\0');
  for (size_t i = 0; i < raw.size(); ++i) {
    raw[i] = static_cast<char>(i * 7 + 1);
  }
  std::string text = format_fingerprint(raw);
  EXPECT_EQ(text.size(), 95u);
  EXPECT_EQ(*parse_fingerprint(text), raw);
  std::string plain;
  for (char c : text) {
    if (c != ':') {
      plain.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  EXPECT_EQ(*parse_fingerprint(plain), raw);
  EXPECT_THAT(parse_fingerprint(text.substr(3)).status().message(), HasSubstr("64 hex digits"));
  EXPECT_THAT(parse_fingerprint("zz" + plain.substr(2)).status().message(), HasSubstr("hex"));
  EXPECT_FALSE(parse_fingerprint(":" + text).is_ok());
  EXPECT_FALSE(parse_fingerprint("A:BC" + text.substr(5)).is_ok());
  EXPECT_FALSE(parse_fingerprint("").is_ok());
}

TEST_F(TlsTest, MissingFilesAreNamed) {
  auto r = ServerContext::load(path("nope.pem"), key());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("nope.pem"));
  r = ServerContext::load(cert(), path("nokey.pem"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("TLS private key"));
}

TEST_F(TlsTest, GarbageCertificateIsAnErrorWithOpenSslText) {
  std::ofstream(path("bad.pem")) << "-----BEGIN CERTIFICATE-----\nnot base64 at all\n";
  auto r = ServerContext::load(path("bad.pem"), key());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(r.status().message(), HasSubstr("bad.pem"));
  EXPECT_THAT(r.status().message(), HasSubstr("error:"));
}

TEST_F(TlsTest, MismatchedKeyIsRefused) {
  ASSERT_TRUE(write_self_signed(path("c2.pem"), path("k2.pem")).is_ok());
  auto r = ServerContext::load(cert(), path("k2.pem"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(),
              ::testing::AnyOf(HasSubstr("does not match"), HasSubstr("key values mismatch")));
}

TEST_F(TlsTest, ReloadSwapsCertificateAndKeepsOldOnFailure) {
  auto ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(ctx.is_ok());
  std::string first = (*ctx)->fingerprint();

  // An open connection made before the reload keeps working afterwards.
  SocketPair p;
  auto before = (*ctx)->new_connection(p.fds[0]);
  auto client = client_for(p.fds[1], cert());
  ASSERT_TRUE(handshake(**before, *client));

  ASSERT_TRUE(write_self_signed(cert(), key()).is_ok());
  ASSERT_TRUE((*ctx)->reload().is_ok());
  std::string second = (*ctx)->fingerprint();
  EXPECT_NE(first, second);
  EXPECT_EQ((*before)->write("+OK still here\r\n").state, IoState::kDone);
  char buffer[64];
  EXPECT_EQ(client->read(buffer, sizeof buffer).state, IoState::kDone);

  // A broken certificate: the reload fails and the context still serves the second one, which
  // a client that trusts only that certificate verifies.
  std::filesystem::copy_file(cert(), path("second.pem"));
  std::ofstream(cert(), std::ios::trunc) << "garbage\n";
  Status s = (*ctx)->reload();
  EXPECT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), HasSubstr("cert.pem"));
  EXPECT_EQ((*ctx)->fingerprint(), second);
  SocketPair q;
  auto after = (*ctx)->new_connection(q.fds[0]);
  auto client2 = client_for(q.fds[1], path("second.pem"));
  EXPECT_TRUE(handshake(**after, *client2)) << client2->error_text();
}

TEST_F(TlsTest, Tls11IsRefused) {
  auto server_ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(server_ctx.is_ok());
  SocketPair p;
  auto server = (*server_ctx)->new_connection(p.fds[0]);
  SslCtxPtr old(SSL_CTX_new(TLS_client_method()));
  // Security level 0 so that the client itself is willing to speak TLS 1.1 (OpenSSL 3 refuses
  // it by default); the refusal must come from the server.
  SSL_CTX_set_security_level(old.get(), 0);
  SSL_CTX_set_min_proto_version(old.get(), TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(old.get(), TLS1_1_VERSION);
  SSL_CTX_set_verify(old.get(), SSL_VERIFY_NONE, nullptr);
  SSL* ssl = SSL_new(old.get());
  SSL_set_fd(ssl, p.fds[1]);
  SSL_set_connect_state(ssl);
  TlsConnection client(ssl);
  EXPECT_FALSE(handshake(**server, client));
  EXPECT_THAT((*server)->error_text(), HasSubstr("unsupported protocol"));
}

TEST_F(TlsTest, AlpnPop3IsAcceptedAndOthersRefused) {
  auto server_ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(server_ctx.is_ok());
  {
    SocketPair p;
    auto server = (*server_ctx)->new_connection(p.fds[0]);
    auto ctx = make_client_ctx(cert());
    static const unsigned char kProtos[] = {8,   'h', 't', 't', 'p', '/', '1',
                                            '.', '1', 4,   'p', 'o', 'p', '3'};
    SSL_CTX_set_alpn_protos(ctx->get(), kProtos, sizeof kProtos);
    auto client = new_client_connection(ctx->get(), p.fds[1], "localhost");
    ASSERT_TRUE(handshake(**server, **client));
    EXPECT_EQ((*server)->info().alpn, "pop3");
  }
  {
    SocketPair p;
    auto server = (*server_ctx)->new_connection(p.fds[0]);
    auto ctx = make_client_ctx(cert());
    static const unsigned char kHttp[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx->get(), kHttp, sizeof kHttp);
    auto client = new_client_connection(ctx->get(), p.fds[1], "localhost");
    EXPECT_FALSE(handshake(**server, **client));
  }
}

TEST_F(TlsTest, Tls12UsesEcdheAeadAndStillHasAnExporter) {
  auto server_ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(server_ctx.is_ok());
  SocketPair p;
  auto server = (*server_ctx)->new_connection(p.fds[0]);
  auto ctx = make_client_ctx(cert());
  SSL_CTX_set_max_proto_version(ctx->get(), TLS1_2_VERSION);
  auto client = new_client_connection(ctx->get(), p.fds[1], "localhost");
  ASSERT_TRUE(handshake(**server, **client));
  HandshakeInfo info = (*server)->info();
  EXPECT_EQ(info.version, "TLSv1.2");
  EXPECT_THAT(info.cipher, ::testing::StartsWith("ECDHE-"));
  EXPECT_EQ(info.tls_exporter.size(), 32u);  // extended master secret is on by default
}

TEST_F(TlsTest, PlaintextInsteadOfClientHelloFails) {
  auto server_ctx = ServerContext::load(cert(), key());
  ASSERT_TRUE(server_ctx.is_ok());
  SocketPair p;
  auto server = (*server_ctx)->new_connection(p.fds[0]);
  ASSERT_EQ(::write(p.fds[1], "USER evil\r\n", 11), 11);
  IoResult r = (*server)->handshake();
  EXPECT_EQ(r.state, IoState::kError);
  EXPECT_FALSE((*server)->error_text().empty());
  (*server)->close_notify();  // after a fatal error: must be a no-op, not a crash
}

}  // namespace
}  // namespace poplar::tls
