// Tests of ServerStream against small servers on loopback (a thread each): plain and TLS
// exchanges, a refused port, a silent server hitting the I/O timeout, an untrusted certificate,
// and fingerprint pinning.
#include "fetch/server_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <thread>

#include "testing/temp_dir.h"
#include "tls/tls_context.h"

namespace poplar::fetch {
namespace {

using ::testing::HasSubstr;

// Listens on 127.0.0.1 (or ::1) and runs `serve` with the first accepted descriptor on a thread.
class TestServer {
 public:
  explicit TestServer(std::function<void(int fd)> serve, bool ipv6 = false) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ipv6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_loopback;
      ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ok_ = ok_ && ::listen(fd_, 4) == 0;
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    if (ok_) {
      thread_ = std::thread([this, serve] {
        int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) {
          serve(client);
          ::close(client);
        }
      });
    }
  }
  ~TestServer() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) {
      thread_.join();
    }
    ::close(fd_);
  }
  bool ok() const { return ok_; }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::string read_line(int fd) {
  std::string line;
  char c = 0;
  while (::recv(fd, &c, 1, 0) == 1) {
    line += c;
    if (c == '\n') {
      break;
    }
  }
  return line;
}

std::string read_all(ServerStream& stream) {
  std::string out;
  char buffer[256];
  for (;;) {
    Result<size_t> n = stream.read_some(buffer);
    EXPECT_TRUE(n.is_ok()) << n.status().to_string();
    if (!n.is_ok() || *n == 0) {
      return out;
    }
    out.append(buffer, *n);
  }
}

TEST(ServerStreamTest, PlainExchangeAndEndOfStream) {
  TestServer server([](int fd) {
    ::send(fd, "+OK hello\r\n", 11, 0);
    std::string line = read_line(fd);
    std::string reply = "+OK got " + line;
    ::send(fd, reply.data(), reply.size(), 0);
  });
  ASSERT_TRUE(server.ok());
  auto stream = ServerStream::connect("127.0.0.1", server.port());
  ASSERT_TRUE(stream.is_ok()) << stream.status().to_string();
  EXPECT_EQ((*stream)->peer(), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_FALSE((*stream)->tls_active());
  ASSERT_TRUE((*stream)->write_all("NOOP\r\n").is_ok());
  EXPECT_EQ(read_all(**stream), "+OK hello\r\n+OK got NOOP\r\n");
}

TEST(ServerStreamTest, Ipv6LoopbackAndNamesResolve) {
  TestServer server([](int fd) { ::send(fd, "+OK v6\r\n", 8, 0); }, /*ipv6=*/true);
  if (!server.ok()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  auto stream = ServerStream::connect("::1", server.port());
  ASSERT_TRUE(stream.is_ok()) << stream.status().to_string();
  EXPECT_EQ((*stream)->peer(), "[::1]:" + std::to_string(server.port()));
  EXPECT_EQ(read_all(**stream), "+OK v6\r\n");
}

TEST(ServerStreamTest, RefusedPortIsTemporaryAndNamesTheAddress) {
  uint16_t port = 0;
  {
    TestServer closed([](int) {});  // bound, then closed again: nobody listens there now
    port = closed.port();
  }
  auto stream = ServerStream::connect("127.0.0.1", port);
  ASSERT_FALSE(stream.is_ok());
  EXPECT_EQ(stream.status().code(), ErrorCode::kTemporary);
  EXPECT_THAT(stream.status().message(), HasSubstr("127.0.0.1:" + std::to_string(port)));
  EXPECT_THAT(stream.status().message(), HasSubstr("refused"));
}

TEST(ServerStreamTest, ASilentServerHitsTheTimeoutInsteadOfHanging) {
  TestServer server([](int fd) { read_line(fd); });  // never answers; waits for our close
  ASSERT_TRUE(server.ok());
  StreamTimeouts timeouts;
  timeouts.io = std::chrono::milliseconds(200);
  auto stream = ServerStream::connect("127.0.0.1", server.port(), timeouts);
  ASSERT_TRUE(stream.is_ok());
  char buffer[16];
  Result<size_t> n = (*stream)->read_some(buffer);
  ASSERT_FALSE(n.is_ok());
  EXPECT_EQ(n.status().code(), ErrorCode::kTemporary);
  EXPECT_THAT(n.status().message(), HasSubstr("no answer"));
  ASSERT_TRUE((*stream)->write_all("QUIT\r\n").is_ok());
}

class ServerStreamTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tls::write_self_signed(cert(), key(), {"localhost"}).is_ok());
    auto ctx = tls::ServerContext::load(cert(), key());
    ASSERT_TRUE(ctx.is_ok()) << ctx.status().to_string();
    server_ctx_ = std::move(*ctx);
  }
  std::string cert() const { return (dir_.path() / "cert.pem").string(); }
  std::string key() const { return (dir_.path() / "key.pem").string(); }

  // A TLS server that greets, echoes one line and closes with close_notify.
  std::function<void(int)> tls_echo() {
    return [this](int fd) {
      auto connection = server_ctx_->new_connection(fd);
      if (!connection.is_ok() || (*connection)->handshake().state != tls::IoState::kDone) {
        return;
      }
      (void)(*connection)->write("+OK secure\r\n");
      char buffer[64];
      tls::IoResult r = (*connection)->read(buffer, sizeof buffer);
      if (r.state == tls::IoState::kDone) {
        (void)(*connection)->write("+OK got " + std::string(buffer, r.bytes));
      }
      (*connection)->close_notify();
    };
  }

  testing::TempDir dir_;
  std::unique_ptr<tls::ServerContext> server_ctx_;
};

TEST_F(ServerStreamTlsTest, VerifiedHandshakeThenExchange) {
  TestServer server(tls_echo());
  auto stream = ServerStream::connect("127.0.0.1", server.port());
  ASSERT_TRUE(stream.is_ok());
  auto ctx = tls::make_client_ctx(cert());
  ASSERT_TRUE(ctx.is_ok());
  ASSERT_TRUE((*stream)->start_tls(ctx->get(), "localhost").is_ok());
  EXPECT_TRUE((*stream)->tls_active());
  EXPECT_EQ((*stream)->tls_info().version, "TLSv1.3");
  EXPECT_EQ((*stream)->tls_info().tls_exporter.size(), 32u);
  ASSERT_TRUE((*stream)->write_all("CAPA\r\n").is_ok());
  EXPECT_EQ(read_all(**stream), "+OK secure\r\n+OK got CAPA\r\n");
}

TEST_F(ServerStreamTlsTest, UntrustedCertificateIsPermanentAndSaysWhy) {
  TestServer server(tls_echo());
  auto stream = ServerStream::connect("127.0.0.1", server.port());
  ASSERT_TRUE(stream.is_ok());
  ASSERT_TRUE(tls::write_self_signed((dir_.path() / "other.pem").string(),
                                     (dir_.path() / "other.key").string(), {"localhost"})
                  .is_ok());
  auto ctx = tls::make_client_ctx((dir_.path() / "other.pem").string());
  ASSERT_TRUE(ctx.is_ok());
  Status s = (*stream)->start_tls(ctx->get(), "localhost");
  EXPECT_EQ(s.code(), ErrorCode::kPermanent);
  EXPECT_THAT(s.message(), HasSubstr("not trusted"));
  EXPECT_THAT(s.message(), HasSubstr("self-signed"));
  EXPECT_FALSE((*stream)->tls_active());
  // Nothing can be sent in the clear afterwards.
  EXPECT_FALSE((*stream)->write_all("USER alice\r\n").is_ok());
}

TEST_F(ServerStreamTlsTest, PinnedFingerprintMustMatch) {
  for (bool right : {true, false}) {
    TestServer server(tls_echo());
    auto stream = ServerStream::connect("127.0.0.1", server.port());
    ASSERT_TRUE(stream.is_ok());
    auto ctx = tls::make_unverified_client_ctx();
    ASSERT_TRUE(ctx.is_ok());
    auto pin = tls::parse_fingerprint(server_ctx_->fingerprint());
    ASSERT_TRUE(pin.is_ok());
    std::string wanted = *pin;
    if (!right) {
      wanted[0] = static_cast<char>(wanted[0] ^ 1);
    }
    Status s = (*stream)->start_tls(ctx->get(), "127.0.0.1", wanted);
    if (right) {
      ASSERT_TRUE(s.is_ok()) << s.to_string();
      ASSERT_TRUE((*stream)->write_all("NOOP\r\n").is_ok());
      EXPECT_EQ(read_all(**stream), "+OK secure\r\n+OK got NOOP\r\n");
    } else {
      EXPECT_EQ(s.code(), ErrorCode::kPermanent);
      EXPECT_THAT(s.message(), HasSubstr("not the pinned"));
      EXPECT_THAT(s.message(), HasSubstr(server_ctx_->fingerprint()));
    }
  }
}

}  // namespace
}  // namespace poplar::fetch
