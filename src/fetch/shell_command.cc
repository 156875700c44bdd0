// Shell commands for `poplar fetch`; see shell_command.h.
#include "fetch/shell_command.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace poplar::fetch {

Result<pid_t> spawn_shell(const std::string& command, int child_stdin, int child_stdout) {
  if (command.empty()) {
    return Status::invalid_input("the command is empty");
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  // dup2 clears close-on-exec on the copies.
  if (child_stdin >= 0) {
    posix_spawn_file_actions_adddup2(&actions, child_stdin, STDIN_FILENO);
  }
  if (child_stdout >= 0) {
    posix_spawn_file_actions_adddup2(&actions, child_stdout, STDOUT_FILENO);
  }
  // Its own process group, so that giving up kills the shell and whatever it started.
  posix_spawnattr_setpgroup(&attributes, 0);
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
  if (rc != 0) {
    return Status::temporary("cannot start /bin/sh: " + std::string(std::strerror(rc)));
  }
  return pid;
}

Result<int> wait_child(pid_t pid) {
  int status = 0;
  pid_t got = 0;
  do {
    got = ::waitpid(pid, &status, 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    return Status::temporary(std::string("waiting for a command: ") + std::strerror(errno));
  }
  return status;
}

void kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  (void)wait_child(pid);
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) {
    return "exit " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "signal " + std::to_string(WTERMSIG(status));
  }
  return "wait status " + std::to_string(status);
}

}  // namespace poplar::fetch
