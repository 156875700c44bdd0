// Giving up root after the listeners are bound (DESIGN §3): the server binds ports below 1024 and
// reads the TLS key as root, then becomes the configured `user`/`group` before it accepts a
// single connection, and checks that the change cannot be undone. Files listed here are the only
// server code that runs with the intent of changing identity.
//
// Thread-safety: changes the identity of the whole process. Call once at startup, before other
// threads exist: glibc switches every thread, but a thread caught half-way through an operation
// that began as root would finish it with root's open files.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/status.h"

namespace poplar::server {

// When the process runs as root (euid 0) and `user` is not empty: looks up `user` and `group`
// (empty group: the user's primary group), sets the supplementary groups to just that group, then
// the gid, then the uid, and verifies with check_identity(). If the verification fails, the
// process logs and aborts: a server that believes it dropped root but did not must not run.
//
// As root with an empty `user`: logs a warning (the server keeps running as root) and returns OK.
// Not as root: nothing can be changed; if `user` names someone other than the current user, logs
// a warning and returns OK, so a developer can run a production config unprivileged.
//
// Error codes: kInvalidInput (unknown user or group; `group` without `user`), kPermission or
// kTemporary (setgroups/setgid/setuid failed; the process should exit, its identity may be half
// changed). Lookups happen before any change, so an error from them leaves the process as it was.
Status drop_privileges(const std::string& user, const std::string& group);

// OK iff the real, effective and saved uid are all `uid`, the real, effective and saved gid are
// all `gid`, every supplementary group is `gid`, and — when uid is not 0 — setuid(0) and
// setgid(0) both fail. Only reached after a drop, so a successful setuid(0) here means the drop
// did not stick (the caller then aborts).
Status check_identity(uid_t uid, gid_t gid);

}  // namespace poplar::server
