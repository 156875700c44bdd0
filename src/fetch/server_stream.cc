// The fetch client's connection to a POP3 server; see server_stream.h.
#include "fetch/server_stream.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "tls/tls_context.h"

namespace poplar::fetch {
namespace {

using Clock = std::chrono::steady_clock;

std::string address_text(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
  ::inet_ntop(AF_INET, &in4->sin_addr, host, sizeof host);
  port = ntohs(in4->sin_port);
  return std::string(host) + ":" + std::to_string(port);
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

// One non-blocking connect, waited for until the deadline. Returns the descriptor or -1 with
// `error` set.
int connect_one(const addrinfo& ai, Clock::time_point deadline, std::string& error) {
  int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0 && errno != EINPROGRESS) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, remaining_ms(deadline));
  } while (ready < 0 && errno == EINTR);
  int so_error = 0;
  socklen_t length = sizeof so_error;
  if (ready == 0) {
    error = "connection timed out";
  } else if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length) != 0) {
    error = std::strerror(errno);
  } else if (so_error != 0) {
    error = std::strerror(so_error);
  } else {
    const int on = 1;  // commands are small and answered one by one
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return fd;
  }
  ::close(fd);
  return -1;
}

// OpenSSL writes the socket with write(2), which raises SIGPIPE when the server has closed
// first (e.g. our close_notify after its own close): that must cost one failed write, not the
// process. Process-wide, like `poplar serve` does at start-up; set once, before any stream.
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

}  // namespace

Result<std::unique_ptr<ServerStream>> ServerStream::connect(const std::string& host, uint16_t port,
                                                            StreamTimeouts timeouts) {
  ignore_sigpipe();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const std::string where =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + service;
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Status::temporary("cannot look up " + host + ": " + ::gai_strerror(rc));
  }
  const Clock::time_point deadline = Clock::now() + timeouts.connect;
  std::string errors;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    std::string error;
    int fd = connect_one(*ai, deadline, error);
    if (fd >= 0) {
      std::string peer = address_text(ai->ai_addr);
      ::freeaddrinfo(found);
      return std::unique_ptr<ServerStream>(new ServerStream(fd, std::move(peer), timeouts));
    }
    errors += (errors.empty() ? "" : "; ") + address_text(ai->ai_addr) + ": " + error;
    if (remaining_ms(deadline) == 0) {
      break;
    }
  }
  ::freeaddrinfo(found);
  return Status::temporary("cannot connect to " + where + " (" + errors + ")");
}

ServerStream::ServerStream(int fd, std::string peer, StreamTimeouts timeouts)
    : fd_(fd), peer_(std::move(peer)), timeouts_(timeouts) {}

ServerStream::~ServerStream() {
  if (tls_) {
    tls_->close_notify();  // RFC 8446 §6.1; best effort, never waits
    tls_.reset();
  }
  ::close(fd_);
}

Status ServerStream::wait(bool for_write, Clock::time_point deadline) {
  pollfd p{fd_, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
  for (;;) {
    int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready > 0) {
      return Status::ok();  // readable/writable, or an error the next call reports
    }
    if (ready == 0) {
      return Status::temporary("no answer from " + peer_ + " within " +
                               std::to_string(timeouts_.io.count() / 1000) + " s");
    }
    if (errno != EINTR) {
      return Status::from_errno(errno, "poll " + peer_);
    }
  }
}

Status ServerStream::start_tls(ssl_ctx_st* ctx, const std::string& host,
                               std::string_view pin_sha256) {
  if (tls_) {
    return Status::invalid_input("TLS is already active");
  }
  auto made = tls::new_client_connection(ctx, fd_, host);
  if (!made.is_ok()) {
    return made.status();
  }
  tls_ = std::move(made).value();
  const Clock::time_point deadline = Clock::now() + timeouts_.io;
  for (;;) {
    tls::IoResult r = tls_->handshake();
    if (r.state == tls::IoState::kDone) {
      break;
    }
    if (r.state == tls::IoState::kWantRead || r.state == tls::IoState::kWantWrite) {
      if (Status s = wait(r.state == tls::IoState::kWantWrite, deadline); !s.is_ok()) {
        return Status::temporary("TLS handshake with " + peer_ + ": " + s.message());
      }
      continue;
    }
    std::string why = tls_->error_text();
    // Nothing more may be sent on this connection, in the clear or otherwise.
    tls_.reset();
    ::shutdown(fd_, SHUT_RDWR);
    if (why.find("certificate verify failed") != std::string::npos) {
      return Status::error(ErrorCode::kPermanent,
                           "the certificate of " + host + " (" + peer_ + ") is not trusted: " +
                               why + " (--ca-file names a private CA; --fingerprint pins one)");
    }
    return Status::temporary("TLS handshake with " + peer_ +
                             " failed: " + (why.empty() ? "peer closed" : why));
  }
  tls_info_ = tls_->info();
  if (!pin_sha256.empty() && tls_info_.peer_certificate_sha256 != pin_sha256) {
    std::string got = tls::format_fingerprint(tls_info_.peer_certificate_sha256);
    tls_.reset();
    ::shutdown(fd_, SHUT_RDWR);
    return Status::error(ErrorCode::kPermanent,
                         "the certificate of " + host + " (" + peer_ + ") has fingerprint " + got +
                             ", not the pinned " + tls::format_fingerprint(pin_sha256));
  }
  return Status::ok();
}

Result<size_t> ServerStream::read_some(std::span<char> out) {
  if (out.empty()) {
    return size_t{0};
  }
  const Clock::time_point deadline = Clock::now() + timeouts_.io;
  for (;;) {
    bool for_write = false;
    if (tls_) {
      tls::IoResult r = tls_->read(out.data(), out.size());
      switch (r.state) {
        case tls::IoState::kDone:
          return r.bytes;
        case tls::IoState::kClosed:
          return size_t{0};
        case tls::IoState::kError:
          return Status::temporary("reading from " + peer_ + ": " + tls_->error_text());
        case tls::IoState::kWantWrite:
          for_write = true;
          break;
        case tls::IoState::kWantRead:
          break;
      }
    } else {
      ssize_t n = ::recv(fd_, out.data(), out.size(), 0);
      if (n >= 0) {
        return static_cast<size_t>(n);
      }
      if (errno == ECONNRESET) {
        return Status::temporary("reading from " + peer_ + ": connection reset");
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return Status::from_errno(errno, "reading from " + peer_);
      }
    }
    if (Status s = wait(for_write, deadline); !s.is_ok()) {
      return s;
    }
  }
}

Status ServerStream::write_all(std::string_view data) {
  const Clock::time_point deadline = Clock::now() + timeouts_.io;
  while (!data.empty()) {
    bool for_write = true;
    if (tls_) {
      tls::IoResult r = tls_->write(data);
      if (r.state == tls::IoState::kDone) {
        data.remove_prefix(r.bytes);
        continue;
      }
      if (r.state == tls::IoState::kClosed || r.state == tls::IoState::kError) {
        return Status::temporary("writing to " + peer_ + ": " +
                                 (tls_->error_text().empty() ? "peer closed" : tls_->error_text()));
      }
      for_write = r.state == tls::IoState::kWantWrite;
    } else {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (errno == EPIPE || errno == ECONNRESET) {
        return Status::temporary("writing to " + peer_ + ": connection closed by the server");
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return Status::from_errno(errno, "writing to " + peer_);
      }
    }
    if (Status s = wait(for_write, deadline); !s.is_ok()) {
      return s;
    }
  }
  return Status::ok();
}

}  // namespace poplar::fetch
