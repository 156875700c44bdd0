#include "admin/password_input.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <string_view>

namespace poplar::admin {
namespace {

// The signals after which the terminal must not be left with echo off.
constexpr int kRestoreSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// What the signal handler needs to restore the terminal. A handler can reach only globals;
// they are set just before echo is turned off and cleared right after it is back on.
int g_echo_fd = -1;
termios g_saved_termios;

extern "C" void restore_terminal_and_reraise(int sig) {
  if (g_echo_fd >= 0) {
    tcsetattr(g_echo_fd, TCSAFLUSH, &g_saved_termios);  // async-signal-safe
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

// Turns echo off on a terminal for its lifetime, restoring it on destruction and on the
// common terminating signals.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) {
      fd_ = -1;
      return;
    }
    g_saved_termios = saved_;
    g_echo_fd = fd_;
    struct sigaction action {};
    action.sa_handler = restore_terminal_and_reraise;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kRestoreSignals); ++i) {
      sigaction(kRestoreSignals[i], &action, &old_actions_[i]);
    }
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the Enter key still moves to the next line
    tcsetattr(fd_, TCSAFLUSH, &quiet);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  ~EchoOff() {
    if (fd_ < 0) {
      return;
    }
    tcsetattr(fd_, TCSAFLUSH, &saved_);
    g_echo_fd = -1;
    for (size_t i = 0; i < std::size(kRestoreSignals); ++i) {
      sigaction(kRestoreSignals[i], &old_actions_[i], nullptr);
    }
  }

 private:
  int fd_;
  termios saved_{};
  struct sigaction old_actions_[std::size(kRestoreSignals)]{};
};

void write_text(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // a prompt that cannot be shown does not stop the input
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

Result<Secret> prompt(int in_fd, int out_fd, std::string_view text) {
  write_text(out_fd, text);
  EchoOff echo_off(in_fd);
  return read_password_line(in_fd);
}

}  // namespace

Result<Secret> read_password_line(int fd) {
  std::string buffer;
  // Reserved up front so that growing never leaves copies of the password in freed memory.
  buffer.reserve(kMaxPasswordBytes + 2);
  bool any = false;
  bool too_long = false;
  while (true) {
    char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      secure_wipe(buffer.data(), buffer.size());
      return Status::temporary(std::string("reading the password: ") + std::strerror(err));
    }
    if (n == 0) {
      break;
    }
    any = true;
    if (c == '\n') {
      break;
    }
    if (buffer.size() > kMaxPasswordBytes) {
      too_long = true;  // keep reading to the line end, but store nothing more
      continue;
    }
    buffer.push_back(c);
  }
  if (!buffer.empty() && buffer.back() == '\r') {
    buffer.pop_back();
  }
  if (too_long || buffer.size() > kMaxPasswordBytes) {
    secure_wipe(buffer.data(), buffer.size());
    return Status::invalid_input("password longer than 4096 bytes");
  }
  if (!any) {
    return Status::error(ErrorCode::kUnavailable, "no password given on standard input");
  }
  if (buffer.empty()) {
    return Status::invalid_input("empty password");
  }
  Secret secret(buffer);
  secure_wipe(buffer.data(), buffer.size());
  return secret;
}

Result<Secret> TerminalPasswordSource::read_new_password() {
  if (!isatty(STDIN_FILENO)) {
    return read_password_line(STDIN_FILENO);
  }
  int in_fd = STDIN_FILENO;
  int out_fd = STDERR_FILENO;
  int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (tty >= 0) {
    in_fd = tty;
    out_fd = tty;
  }
  Result<Secret> first = prompt(in_fd, out_fd, "New password: ");
  Result<Secret> second = first ? prompt(in_fd, out_fd, "Retype new password: ") : first;
  if (tty >= 0) {
    ::close(tty);
  }
  if (!first) {
    return first.status();
  }
  if (!second) {
    return second.status();
  }
  if (first->view() != second->view()) {
    return Status::invalid_input("the passwords do not match");
  }
  return std::move(*first);
}

}  // namespace poplar::admin
