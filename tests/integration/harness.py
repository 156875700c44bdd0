"""Test harness: a real `poplar serve` on 127.0.0.1 with a port chosen by the kernel.

Each PoplarServer gets its own temporary directory holding the config, the passwd-file, the
users' Maildirs and the server log. The server binds port 0 and reports the port through
--port-file, so tests never collide (STYLE §15: no fixed ports, no sleeps as synchronisation).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

POPLAR_BIN = os.environ.get("POPLAR_BIN", "build/debug/poplar")

# Messages as stored on disk (bytes). Realistic enough to exercise the wire rules.
MSG_CRLF = (b"From: Carol <carol@example.org>\r\nTo: alice@example.org\r\n"
            b"Subject: CRLF message\r\n\r\nHello Alice.\r\nSecond line.\r\n")
MSG_LF_DOTS = (b"From: dave@example.org\nSubject: dots and LF\n\n.starts with a dot\n"
               b"..two dots\n.\nend\n")
MSG_NO_FINAL_NEWLINE = b"Subject: no final newline\n\nlast line without newline"
MSG_BIG = (b"Subject: big\n\n" + b"".join(
    b"line %06d of a long message, padded to look like real text.....\n" % i
    for i in range(40000)))  # about 2.6 MB


def wire_size(stored: bytes) -> int:
    """Octets a client receives after un-stuffing (RFC 1939 §11): every line end as CRLF."""
    out = stored.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if stored and not stored.endswith(b"\n"):
        out += b"\r\n"
    return len(out)


def unstuffed_wire(stored: bytes) -> bytes:
    out = stored.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if stored and not stored.endswith(b"\n"):
        out += b"\r\n"
    return out


def require(tool):
    """Skips the test when an external client is not installed; fails it under CI=true."""
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            raise AssertionError(f"{tool} is missing: scripts/install-deps must install it")
        raise unittest.SkipTest(f"{tool} not installed")


def wait_until(predicate, timeout=10, interval=0.01):
    """Polls predicate() until it is true; fails after timeout seconds (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached within %s s" % timeout)
        time.sleep(interval)


def write_test_certificate(cert_path, key_path, cn="localhost"):
    """A self-signed EC P-256 certificate for localhost and 127.0.0.1, made by the openssl CLI
    (independent of the server's own certificate writer)."""
    require("openssl")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-keyout", key_path,
                    "-out", cert_path, "-subj", "/CN=" + cn, "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)


def terminate(proc, timeout=30):
    """SIGTERM, then SIGKILL if the process is still there after timeout seconds; reaps it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def deliver_to_maildir(maildir, body, seq, host):
    """Delivers like an MDA: write in tmp/, rename into new/. Returns the file's name."""
    name = "%d.M%dP%dQ%d.%s" % (1700000000 + seq, seq, os.getpid(), seq, host)
    tmp = os.path.join(maildir, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(body)
    os.rename(tmp, os.path.join(maildir, "new", name))
    return name


def poplar_hash(password: str, scheme: str) -> str:
    out = subprocess.run([POPLAR_BIN, "hash", "--scheme", scheme], input=password + "\n",
                         capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip()


# Every PoplarServer started by the running test, so that run.py can show their log tails when
# the test fails (CI keeps only the runner's output, not the servers' directories).
STARTED_SERVERS = []


class PoplarServer:
    def __init__(self, users=None, mailboxes=None, config_extra="", auth_extra="",
                 pop3_extra="", limits_extra="", top_extra=""):
        # users: name -> password entry (already with {SCHEME}); mailboxes: name -> [bytes]
        self.users = users if users is not None else {"alice": "{PLAIN}secret"}
        self.mailboxes = mailboxes if mailboxes is not None else {"alice": [MSG_CRLF]}
        self.config_extra = config_extra
        self.auth_extra = auth_extra
        self.pop3_extra = pop3_extra
        self.limits_extra = limits_extra
        self.top_extra = top_extra
        self.dir = tempfile.mkdtemp(prefix="poplar-it-")
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.dir, "server.log")
        self._write_files()

    # -- set-up ---------------------------------------------------------------------------
    def maildir(self, user):
        return os.path.join(self.dir, "home", user, "Maildir")

    def _write_files(self):
        lines = []
        for i, (name, secret) in enumerate(sorted(self.users.items())):
            home = os.path.join(self.dir, "home", name)
            os.makedirs(home, exist_ok=True)
            lines.append(f"{name}:{secret}:{os.getuid()}:{os.getgid()}::{home}::")
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("\n".join(lines) + "\n")
        for name, messages in self.mailboxes.items():
            md = self.maildir(name)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub), exist_ok=True)
            for i, body in enumerate(messages):
                self.deliver(name, body, seq=i)
        with open(os.path.join(self.dir, "poplar.toml"), "w") as f:
            f.write(f"""hostname = "test.example.org"
{self.top_extra}

[[listen]]
address = "127.0.0.1:0"
tls = "none"

[auth]
passwd_file = "users"
failure_delay_s = 0
{self.auth_extra}

[pop3]
{self.pop3_extra}

[mail]
location = "maildir:%h/Maildir"

[limits]
{self.limits_extra}
{self.config_extra}
""")

    def deliver(self, user, body, seq=0):
        return deliver_to_maildir(self.maildir(user), body, seq, "test.example.org")

    def message_files(self, user):
        md = self.maildir(user)
        out = []
        for sub in ("new", "cur"):
            out += [os.path.join(md, sub, n) for n in os.listdir(os.path.join(md, sub))]
        return sorted(out)

    def message_contents(self, user):
        result = []
        for path in self.message_files(user):
            with open(path, "rb") as f:
                result.append(f.read())
        return sorted(result)

    # -- process --------------------------------------------------------------------------
    def start(self, extra_args=(), preexec=None):
        port_file = os.path.join(self.dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.log = open(self.log_path, "ab")
        if self not in STARTED_SERVERS:
            STARTED_SERVERS.append(self)
        self.proc = subprocess.Popen(
            [POPLAR_BIN, "serve", "-c", os.path.join(self.dir, "poplar.toml"),
             "--port-file", port_file, *extra_args],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL, preexec_fn=preexec)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    # One port per [[listen]], in file order (the default listener first).
                    self.ports = [int(p) for p in f.read().split()]
                self.port = self.ports[0]
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("poplar serve exited with %d:\n%s" %
                                   (self.proc.returncode, self.log_text()))
            time.sleep(0.02)
        raise RuntimeError("poplar serve did not report its port:\n" + self.log_text())

    def stop(self):
        if self.proc is None:
            return None
        terminate(self.proc)
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        self.check_sanitizers()
        return rc

    def check_sanitizers(self):
        """Every test fails if the server reported memory errors, UB or leaks (asan-ubsan build)."""
        log = self.log_text()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if marker in log:
                raise AssertionError("sanitizer report in the server log:\n" + log[-6000:])

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.log.close()
        self.check_sanitizers()

    def restart(self):
        self.stop()
        return self.start()

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # -- raw connections ----------------------------------------------------------------------
    def connect(self, timeout=10, rcvbuf=None, sndbuf=None):
        return RawClient(self.port, timeout, rcvbuf, sndbuf)


class RawClient:
    """A byte-level POP3 client for the tests that poplib would refuse to send."""

    def __init__(self, port, timeout=10, rcvbuf=None, sndbuf=None):
        if rcvbuf is None and sndbuf is None:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        else:
            # Buffer sizes are set before connecting: a small receive window keeps the server's
            # writes pending; a small send buffer makes our own writes wait for the server.
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf is not None:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            if sndbuf is not None:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
            self.sock.settimeout(timeout)
            self.sock.connect(("127.0.0.1", port))
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered: %r" % self.buf[:200])
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def multiline(self):
        lines = []
        while True:
            line = self.line()
            if line == b".":
                return lines
            lines.append(line[1:] if line.startswith(b".") else line)

    def cmd(self, text: str) -> bytes:
        self.send(text.encode() + b"\r\n")
        return self.line()

    def closed_by_server(self, timeout=10) -> bool:
        """True when the server closes the connection (after any pending output)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def login(self, user="alice", password="secret"):
        assert self.line().startswith(b"+OK")
        assert self.cmd("USER " + user).startswith(b"+OK")
        return self.cmd("PASS " + password)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
