// Delivery to a command; see mda_writer.h.
#include "fetch/mda_writer.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

extern char** environ;

namespace poplar::fetch {
namespace {

constexpr int kExTempFail = 75;  // sysexits.h EX_TEMPFAIL

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
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  // The read end becomes the command's stdin (dup2 clears close-on-exec on the copy).
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  // Its own process group, so that giving up kills the shell and whatever it started.
  posix_spawnattr_setpgroup(&attributes, 0);
  // The default SIGPIPE for the command, whatever this process ignores.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attributes, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    return Status::temporary("mda: cannot start /bin/sh: " + std::string(std::strerror(rc)));
  }
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
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
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
  int status = 0;
  pid_t got = 0;
  do {
    got = ::waitpid(pid_, &status, 0);
  } while (got < 0 && errno == EINTR);
  done_ = true;
  if (got < 0) {
    return Status::temporary("mda: waiting for `" + command_ + "`: " + std::strerror(errno));
  }
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (code == 0) {
      return Status::ok();
    }
    if (code == kExTempFail) {
      return Status::temporary("mda: `" + command_ + "` asked to try again later (exit 75)");
    }
    return Status::error(ErrorCode::kPermanent,
                         "mda: `" + command_ + "` failed (exit " + std::to_string(code) + ")");
  }
  return Status::temporary("mda: `" + command_ + "` was killed by signal " +
                           std::to_string(WTERMSIG(status)));
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
