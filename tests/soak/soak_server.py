"""The soak's server: harness.PoplarServer (tests/integration) with the soak's users,
Maildirs and config, plus what the scenarios read from the running process (VmRSS, open
descriptors, log lines).

Thread-safety: use from one thread. Must never: listen anywhere but 127.0.0.1 (the harness
binds 127.0.0.1:0), or leave its server running (stop() / context manager).
"""

import mmap
import os
import re
import resource
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402  (tests/integration/harness.py)

# Per user: a small CRLF message with a dot-stuffed line, a medium LF one, and a 40 KB one, each
# naming its user so a mix-up between maildrops shows as a byte mismatch.
def user_messages(user):
    small = (b"From: soak@example.org\r\nTo: %s@example.org\r\nSubject: small\r\n\r\n"
             b"Hello %s.\r\n.a line starting with a dot\r\n" % (user.encode(), user.encode()))
    medium = (b"From: soak@example.org\nTo: %s@example.org\nSubject: medium\n\n" % user.encode()
              + b"".join(b"medium line %04d for %s\n" % (i, user.encode()) for i in range(120)))
    large = (b"Subject: large for %s\n\n" % user.encode()
             + b"".join(b"large line %05d ....................................\n" % i
                        for i in range(700)))
    return [small, medium, large]


class SoakServer(harness.PoplarServer):
    """users: name -> clear password; every user gets user_messages(name)."""

    def __init__(self, binary, users, failure_delay_s=0, auth_extra="", limits_extra=""):
        harness.POPLAR_BIN = binary
        super().__init__(users={u: "{PLAIN}" + p for u, p in users.items()},
                         mailboxes={u: user_messages(u) for u in users},
                         auth_extra=auth_extra, limits_extra=limits_extra)
        if failure_delay_s:
            # The harness writes failure_delay_s = 0 (tests want no delay); the guessing
            # scenario needs the real growing delay, and TOML forbids a key twice.
            path = os.path.join(self.dir, "poplar.toml")
            with open(path) as f:
                text = f.read()
            text = text.replace("failure_delay_s = 0", "failure_delay_s = %d" % failure_delay_s, 1)
            with open(path, "w") as f:
                f.write(text)

    def expected_wire(self, user):
        """Each stored message of `user` as RETR must deliver it (CRLF lines, unstuffed)."""
        return [harness.unstuffed_wire(m) for m in user_messages(user)]

    def address_sanitized(self):
        """True for an ASan build: its freed memory sits in a quarantine, so RSS figures
        measure ASan rather than the server (LeakSanitizer checks for leaks at exit)."""
        with open(harness.POPLAR_BIN, "rb") as f, \
                mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(b"__asan_init") >= 0

    # -- what the running process uses -----------------------------------------------------
    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS for pid %d" % self.proc.pid)

    def cpu_seconds(self):
        """User + system CPU time the server has used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def open_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def log_lines(self, event):
        """Log lines of one event name (the word after the level, e.g. auth-failed)."""
        pattern = re.compile(r"(^|\s)%s(\s|$)" % re.escape(event))
        return [line for line in self.log_text().splitlines() if pattern.search(line)]


def raise_open_files_limit(wanted):
    """Raises this process's RLIMIT_NOFILE soft limit towards `wanted` (up to the hard
    limit); returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft
