// Reading passwords for `poplar fetch`; see password_source.h.
#include "fetch/password_source.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/sysexits.h"
#include "fetch/shell_command.h"

namespace poplar::fetch {
namespace {

// No password is this long; a command that prints more is not printing a password.
constexpr size_t kMaxOutput = 64 * 1024;
constexpr int kExTempFail = sysexits::kTempFail;

// Wipes a buffer that held a password before it is freed.
void wipe(std::string& s) {
  std::fill(s.begin(), s.end(), '\0');
  s.clear();
}

// The first line, without its LF or CRLF.
Secret first_line(std::string& text) {
  size_t end = text.find('\n');
  if (end == std::string::npos) {
    end = text.size();
  }
  if (end > 0 && text[end - 1] == '\r') {
    --end;
  }
  Secret secret(std::string_view(text).substr(0, end));
  wipe(text);
  return secret;
}

Result<Secret> from_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::from_errno(errno, "cannot read the password file " + path);
  }
  std::string text;
  char buf[4096];
  Status status;
  while (text.find('\n') == std::string::npos && text.size() < kMaxOutput) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      status = Status::from_errno(errno, "cannot read the password file " + path);
      break;
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  std::fill(std::begin(buf), std::end(buf), '\0');
  ::close(fd);
  if (!status.is_ok()) {
    wipe(text);
    return status;
  }
  Secret secret = first_line(text);
  if (secret.view().empty()) {
    return Status::invalid_input("the password file " + path + " has an empty first line");
  }
  return secret;
}

Result<Secret> from_command(const std::string& command, std::chrono::milliseconds timeout) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return Status::temporary(std::string("password_command: pipe: ") + std::strerror(errno));
  }
  int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // Its stdin is /dev/null: a command must not wait for a person to type at a cron job.
  Result<pid_t> spawned = spawn_shell(command, null_in, out[1]);
  if (null_in >= 0) {
    ::close(null_in);
  }
  ::close(out[1]);
  if (!spawned.is_ok()) {
    ::close(out[0]);
    return Status::temporary("password_command: " + spawned.status().message());
  }
  const pid_t pid = *spawned;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string text;
  char buf[4096];
  bool timed_out = false;
  bool too_long = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      continue;  // the deadline check above ends it
    }
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // end of output (or an error: the exit status will tell)
    }
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxOutput) {
      too_long = true;
      break;
    }
  }
  std::fill(std::begin(buf), std::end(buf), '\0');
  ::close(out[0]);
  if (timed_out || too_long) {
    kill_and_reap(pid);
    wipe(text);
    if (too_long) {
      return Status::invalid_input("password_command `" + command +
                                   "` printed more than 64 KiB; that is not a password");
    }
    return Status::temporary("password_command `" + command + "` did not finish within " +
                             std::to_string(timeout.count() / 1000) + " s; it was killed");
  }
  Result<int> waited = wait_child(pid);
  if (!waited.is_ok()) {
    wipe(text);
    return waited.status();
  }
  const int status = *waited;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    wipe(text);
    std::string what =
        "password_command `" + command + "` failed (" + describe_wait_status(status) + ")";
    const bool temporary = !WIFEXITED(status) || WEXITSTATUS(status) == kExTempFail;
    return temporary ? Status::temporary(what) : Status::invalid_input(what);
  }
  Secret secret = first_line(text);
  if (secret.view().empty()) {
    return Status::invalid_input("password_command `" + command + "` printed no password");
  }
  return secret;
}

}  // namespace

Result<Secret> read_password(const PasswordSource& source, std::chrono::milliseconds timeout) {
  switch (source.kind) {
    case PasswordSource::Kind::kFile:
      return from_file(source.where);
    case PasswordSource::Kind::kCommand:
      return from_command(source.where, timeout);
    case PasswordSource::Kind::kEnvironment:
      break;
  }
  const char* env = std::getenv("POPLAR_PASSWORD");
  if (env == nullptr) {
    return Status::invalid_input(
        "no password: give a password file or command, or set POPLAR_PASSWORD");
  }
  return Secret(env);
}

}  // namespace poplar::fetch
