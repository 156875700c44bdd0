// Starting `/bin/sh -c COMMAND` for `poplar fetch`: the MDA of `--to mda:` and the account
// file's `password_command` both run user-written shell commands, the way fetchmail and mpop do.
// The child gets its own process group (giving up kills the shell and everything it started)
// and the default SIGPIPE disposition, whatever this process ignores.
//
// Must never: pass the command to anything but /bin/sh -c; leave a child unreaped (callers
// own the pid and must wait_child() or kill_and_reap() it).
//
// Thread-safety: safe from any thread (posix_spawn; each caller owns its child).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"
#include "base/status.h"

namespace poplar::fetch {

// Starts the command with `child_stdin` and `child_stdout` as its descriptors 0 and 1 (-1:
// inherit this process's). Errors: kTemporary (no processes, no memory), kInvalidInput (an
// empty command).
Result<pid_t> spawn_shell(const std::string& command, int child_stdin, int child_stdout);

// Waits for the child; its wait status (waitpid(2)). Errors: kTemporary.
Result<int> wait_child(pid_t pid);

// Kills the child's process group and waits for the child.
void kill_and_reap(pid_t pid);

// A wait status in words for messages: "exit 3", "signal 9".
std::string describe_wait_status(int status);

}  // namespace poplar::fetch
