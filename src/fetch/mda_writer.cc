// Delivery to a command; see mda_writer.h.
#include "fetch/mda_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "base/sysexits.h"
#include "fetch/shell_command.h"

namespace poplar::fetch {
namespace {

constexpr int kExTempFail = sysexits::kTempFail;

// A write to a command that has already exited must cost EPIPE, not the process.
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

}  // namespace

Result<store::MessageWriterPtr> begin_mda_delivery(const std::string& command) {
  if (command.empty()) {
    return Status::invalid_input("mda: the command is empty");
  }
  ignore_sigpipe();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Status::temporary(std::string("mda: pipe: ") + std::strerror(errno));
  }
  // The read end becomes the command's stdin.
  Result<pid_t> spawned = spawn_shell(command, fds[0], -1);
  ::close(fds[0]);
  if (!spawned.is_ok()) {
    ::close(fds[1]);
    return Status::temporary("mda: " + spawned.status().message());
  }
  const pid_t pid = *spawned;
  return store::MessageWriterPtr(std::make_unique<MdaWriter>(command, pid, fds[1]));
}

MdaWriter::MdaWriter(std::string command, pid_t pid, int stdin_fd)
    : command_(std::move(command)), pid_(pid), stdin_fd_(stdin_fd) {}

MdaWriter::~MdaWriter() {
  if (!done_) {
    kill_and_reap();
  }
}

void MdaWriter::kill_and_reap() {
  // Kill first, close after: the command must never read an end of input it could take for
  // the end of a complete message.
  ::kill(-pid_, SIGKILL);
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
  (void)wait_child(pid_);
  done_ = true;
}

Status MdaWriter::write_all(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(stdin_fd_, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EPIPE) {
      // The command stopped reading: its exit status says why.
      ::close(stdin_fd_);
      stdin_fd_ = -1;
      Status exited = reap();
      return exited.is_ok() ? Status::error(ErrorCode::kPermanent,
                                            "mda: `" + command_ +
                                                "` exited 0 before reading the whole message")
                            : exited;
    }
    return Status::temporary("mda: writing to `" + command_ + "`: " + std::strerror(errno));
  }
  return Status::ok();
}

Status MdaWriter::write(std::string_view wire_chunk) {
  if (!failed_.is_ok() || done_) {
    return failed_.is_ok() ? Status::invalid_input("mda: write after commit") : failed_;
  }
  buffer_.clear();
  converter_.convert(wire_chunk, &buffer_);
  failed_ = write_all(buffer_);
  return failed_;
}

Status MdaWriter::reap() {
  Result<int> waited = wait_child(pid_);
  done_ = true;
  if (!waited.is_ok()) {
    return Status::temporary("mda: `" + command_ + "`: " + waited.status().message());
  }
  const int status = *waited;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return Status::ok();
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == kExTempFail) {
    return Status::temporary("mda: `" + command_ + "` asked to try again later (exit 75)");
  }
  if (WIFEXITED(status)) {
    return Status::error(ErrorCode::kPermanent,
                         "mda: `" + command_ + "` failed (" + describe_wait_status(status) + ")");
  }
  return Status::temporary("mda: `" + command_ + "` was killed by " + describe_wait_status(status));
}

Result<std::string> MdaWriter::commit() {
  if (done_) {
    return failed_.is_ok() ? Status::invalid_input("mda: commit twice") : failed_;
  }
  if (!failed_.is_ok()) {
    kill_and_reap();
    return failed_;
  }
  buffer_.clear();
  converter_.finish(&buffer_);
  if (Status s = write_all(buffer_); !s.is_ok()) {
    failed_ = s;
    if (!done_) {
      kill_and_reap();
    }
    return s;
  }
  ::close(stdin_fd_);
  stdin_fd_ = -1;
  failed_ = reap();
  if (!failed_.is_ok()) {
    return failed_;
  }
  return "mda:" + command_;
}

}  // namespace poplar::fetch
