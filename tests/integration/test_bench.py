"""`poplar bench`, the load generator, against a real `poplar serve` and against fake servers.

Every scenario runs briefly (--sessions or a 1 s duration); the result line is parsed and its
counts are checked against what the Maildirs hold. A tiny fake POP3 server (a thread with a
socket) whose replies lie shows that verification can fail: the bench must say so and exit 1.
"""

import os
import poplib
import socket
import subprocess
import tempfile
import threading
import unittest

from harness import (MSG_BIG, MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, POPLAR_BIN,
                     PoplarServer, wire_size, write_test_certificate)
from test_tls import TLS_LISTENERS  # the STLS and implicit-TLS listeners of test_tls

EX_USAGE = 64
EX_UNAVAILABLE = 69

MESSAGES = [MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, MSG_BIG, b".\n..\n...\n", b""]

RESULT_KEYS = ["scenario", "label", "connections", "threads", "tls", "sessions", "errors",
               "verify_failures", "elapsed_s", "sessions_per_s", "messages", "octets",
               "mb_per_s", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
               "latency_max_ms"]



def parse_result(stdout):
    """The last stdout line as a dict; checks the fixed key order and that values are tokens."""
    lines = stdout.strip().splitlines()
    assert lines, "no output"
    words = lines[-1].split(" ")
    assert words[0] == "bench", lines[-1]
    keys = [w.split("=", 1)[0] for w in words[1:]]
    assert keys == RESULT_KEYS, keys
    return {w.split("=", 1)[0]: w.split("=", 1)[1] for w in words[1:]}


def users_file(directory, users):
    path = os.path.join(directory, "bench-users")
    with open(path, "w") as f:
        for name, password in users:
            f.write(f"{name}:{password}\n")
    return path


def check_sanitizers(stderr):
    """The bench itself must be clean under the asan-ubsan build too."""
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in stderr, "sanitizer report from poplar bench:\n" + stderr[-6000:]


def run_bench(*args, timeout=120):
    out = subprocess.run([POPLAR_BIN, "bench", *args], capture_output=True, text=True,
                         timeout=timeout, stdin=subprocess.DEVNULL)
    check_sanitizers(out.stderr)
    return out


class BenchServer(PoplarServer):
    """Four users, each with MESSAGES, passwords pw0..pw3."""

    USERS = [("user%d" % i, "pw%d" % i) for i in range(4)]

    def __init__(self, **kwargs):
        super().__init__(users={u: "{PLAIN}" + p for u, p in self.USERS},
                         mailboxes={u: MESSAGES for u, _ in self.USERS}, **kwargs)
        self.users_file = users_file(self.dir, self.USERS)

    def bench(self, scenario, *extra, port=None, **kwargs):
        return run_bench("--host", "127.0.0.1", "--port", str(port or self.port), "--scenario",
                         scenario, "--users-file", self.users_file, *extra, **kwargs)


class BenchScenarioTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = BenchServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def check_clean(self, out, scenario):
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        result = parse_result(out.stdout)
        self.assertEqual(result["scenario"], scenario)
        self.assertEqual(result["errors"], "0", out.stderr)
        self.assertEqual(result["verify_failures"], "0", out.stderr)
        return result

    def test_login_with_session_limit(self):
        out = self.server.bench("login", "--connections", "4", "--sessions", "50", "--label",
                                "it test")
        result = self.check_clean(out, "login")
        self.assertEqual(result["sessions"], "50")
        self.assertEqual(result["label"], "it_test")
        self.assertEqual(result["connections"], "4")
        self.assertEqual(result["tls"], "none")
        self.assertGreater(float(result["latency_max_ms"]), 0)
        self.assertGreaterEqual(float(result["latency_p99_ms"]), float(result["latency_p50_ms"]))

    def test_login_for_a_duration_with_two_threads(self):
        out = self.server.bench("login", "--connections", "4", "--threads", "2", "--duration",
                                "1")
        result = self.check_clean(out, "login")
        self.assertGreater(int(result["sessions"]), 0)
        self.assertEqual(result["threads"], "2")
        self.assertGreaterEqual(float(result["elapsed_s"]), 1.0)

    def test_uidl_and_list(self):
        for scenario in ("uidl", "list"):
            out = self.server.bench(scenario, "--connections", "2", "--duration", "1")
            result = self.check_clean(out, scenario)
            self.assertGreater(int(result["sessions"]), 0)

    def test_retr_counts_every_octet_after_unstuffing(self):
        per_drop = sum(wire_size(m) for m in MESSAGES)
        for scenario, extra in (("retr", []), ("retr-pipelined", []),
                                ("retr-pipelined", ["--pipeline-depth", "2"])):
            out = self.server.bench(scenario, "--connections", "3", "--passes", "2", *extra)
            result = self.check_clean(out, scenario)
            users = len(BenchServer.USERS)
            self.assertEqual(result["sessions"], str(users * 2))
            self.assertEqual(result["messages"], str(len(MESSAGES) * users * 2))
            self.assertEqual(int(result["octets"]), per_drop * users * 2, (scenario, extra))
            self.assertGreater(float(result["mb_per_s"]), 0)

    def test_the_server_never_loses_a_message(self):
        out = self.server.bench("retr", "--connections", "4")
        self.check_clean(out, "retr")
        for user, _ in BenchServer.USERS:
            self.assertEqual(len(self.server.message_files(user)), len(MESSAGES))

    def test_idle_holds_sessions_until_stdin_closes(self):
        proc = subprocess.Popen(
            [POPLAR_BIN, "bench", "--host", "127.0.0.1", "--port", str(self.server.port),
             "--scenario", "idle", "--users-file", self.server.users_file, "--connections",
             "4", "--duration", "60"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(proc.stdout.readline(), "ready logged_in=4\n")
            # Every user's maildrop is locked by the bench now: a fifth login gets [IN-USE].
            client = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
            client.user("user2")
            with self.assertRaises(poplib.error_proto) as refused:
                client.pass_("pw2")
            self.assertIn(b"[IN-USE]", refused.exception.args[0])
            client.quit()
            stdout, stderr = proc.communicate(timeout=60)  # closes stdin: the hold ends
            check_sanitizers(stderr)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0, stderr)
        result = parse_result(stdout)
        self.assertEqual(result["scenario"], "idle")
        self.assertEqual(result["sessions"], "4")
        self.assertEqual(result["errors"], "0")
        # The locks are gone: the user can log in again.
        client = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        client.user("user2")
        client.pass_("pw2")
        client.quit()

    def test_idle_ends_after_the_duration(self):
        # stdin stays open (a pipe nobody writes to): the duration ends the hold.
        proc = subprocess.Popen(
            [POPLAR_BIN, "bench", "--host", "127.0.0.1", "--port", str(self.server.port),
             "--scenario", "idle", "--users-file", self.server.users_file, "--connections",
             "2", "--duration", "0.5"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            proc.wait(timeout=60)
            stdout, stderr = proc.stdout.read(), proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdin.close()
            proc.stdout.close()
            proc.stderr.close()
        check_sanitizers(stderr)
        self.assertEqual(proc.returncode, 0, stderr)
        self.assertTrue(stdout.startswith("ready logged_in=2\n"), stdout)
        self.assertEqual(parse_result(stdout)["sessions"], "2")

    def test_more_connections_than_users_are_reduced(self):
        out = self.server.bench("login", "--connections", "10", "--sessions", "10")
        result = self.check_clean(out, "login")
        self.assertEqual(result["connections"], "4")
        self.assertIn("using 4 connections instead of 10", out.stderr)

    def test_wrong_password_is_an_error_and_exit_1(self):
        path = users_file(self.server.dir, [("user0", "pw0"), ("user1", "wrong")])
        out = run_bench("--host", "127.0.0.1", "--port", str(self.server.port), "--scenario",
                        "login", "--users-file", path, "--connections", "2", "--sessions", "20")
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        result = parse_result(out.stdout)
        self.assertGreater(int(result["errors"]), 0)
        self.assertIn("PASS -ERR", out.stderr)
        self.assertNotIn("wrong", out.stderr)  # passwords are never printed


class BenchTlsTest(unittest.TestCase):
    def test_starttls_and_implicit_tls(self):
        server = BenchServer(config_extra=TLS_LISTENERS)
        try:
            write_test_certificate(os.path.join(server.dir, "cert.pem"),
                                   os.path.join(server.dir, "key.pem"))
            server.start()
            cert = os.path.join(server.dir, "cert.pem")
            for mode, port, trust in (("starttls", server.ports[1], ["--ca-file", cert]),
                                      ("implicit", server.ports[2], ["--insecure-tls"])):
                out = server.bench("retr", "--connections", "2", "--tls", mode, *trust,
                                   port=port)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                result = parse_result(out.stdout)
                self.assertEqual(result["tls"], mode)
                self.assertEqual(result["verify_failures"], "0")
                self.assertEqual(int(result["octets"]),
                                 sum(wire_size(m) for m in MESSAGES) * len(BenchServer.USERS))
            # Without a CA the self-signed certificate does not verify: every handshake fails.
            out = server.bench("login", "--connections", "1", "--sessions", "3", "--tls",
                               "implicit", port=server.ports[2])
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
            self.assertIn("TLS handshake", out.stderr)
        finally:
            server.cleanup()


class FakePop3Server:
    """A one-thread POP3 server that answers by a script of its own, to make replies lie.

    mode "short-retr": RETR 1 sends fewer octets than LIST and STAT announce.
    mode "duplicate-uidl": UIDL lists the same unique-id twice.
    """

    BODY = b"Subject: x\r\n\r\n" + b"y" * 60 + b"\r\n"

    def __init__(self, mode):
        self.mode = mode
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            try:
                self.session(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def session(self, conn):
        size = len(self.BODY)
        conn.sendall(b"+OK fake ready\r\n")
        buffer = b""
        while True:
            while b"\r\n" not in buffer:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buffer += chunk
            line, buffer = buffer.split(b"\r\n", 1)
            command = line.split(b" ")[0].upper()
            if command == b"STAT":
                conn.sendall(b"+OK 1 %d\r\n" % size)
            elif command == b"LIST":
                conn.sendall(b"+OK\r\n1 %d\r\n.\r\n" % size)
            elif command == b"UIDL":
                second = b"uid-1" if self.mode == "duplicate-uidl" else b"uid-2"
                conn.sendall(b"+OK\r\n1 uid-1\r\n2 " + second + b"\r\n.\r\n")
            elif command == b"RETR":
                body = self.BODY[:-10] + b"\r\n" if self.mode == "short-retr" else self.BODY
                conn.sendall(b"+OK\r\n" + body + b".\r\n")
            elif command == b"QUIT":
                conn.sendall(b"+OK bye\r\n")
                return
            elif command == b"DELE":
                raise AssertionError("the bench must never send DELE")
            else:
                conn.sendall(b"+OK\r\n")

    def close(self):
        self.listener.close()


class BenchVerificationTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poplar-bench-")
        self.users = users_file(self.dir, [("alice", "secret")])

    def bench(self, scenario, port, *extra):
        return run_bench("--host", "127.0.0.1", "--port", str(port), "--scenario", scenario,
                         "--users-file", self.users, "--connections", "1", *extra)

    def test_fake_server_passes_when_honest(self):
        fake = FakePop3Server("honest")
        try:
            out = self.bench("retr", fake.port, "--passes", "3")
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            result = parse_result(out.stdout)
            self.assertEqual(result["octets"], str(3 * len(FakePop3Server.BODY)))
        finally:
            fake.close()

    def test_retr_shorter_than_list_is_a_verify_failure(self):
        fake = FakePop3Server("short-retr")
        try:
            for scenario in ("retr", "retr-pipelined"):
                out = self.bench(scenario, fake.port)
                self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
                result = parse_result(out.stdout)
                self.assertGreater(int(result["verify_failures"]), 0)
                self.assertEqual(result["errors"], "0")
                self.assertIn("verify RETR size", out.stderr)
        finally:
            fake.close()

    def test_duplicate_uidl_is_a_verify_failure(self):
        fake = FakePop3Server("duplicate-uidl")
        try:
            out = self.bench("uidl", fake.port, "--sessions", "3")
            self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
            result = parse_result(out.stdout)
            self.assertEqual(result["verify_failures"], "3")
            self.assertIn("listed twice", out.stderr)
        finally:
            fake.close()

    def test_nothing_to_connect_to_exits_69(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()  # nobody listens on it now
        out = self.bench("login", port, "--duration", "1")
        self.assertEqual(out.returncode, EX_UNAVAILABLE, out.stdout + out.stderr)
        self.assertIn("could not connect", out.stderr)
        self.assertEqual(parse_result(out.stdout)["sessions"], "0")


class BenchUsageTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poplar-bench-")
        self.users = users_file(self.dir, [("alice", "secret")])

    def test_bad_arguments_exit_64_with_a_message(self):
        base = ["--host", "127.0.0.1", "--port", "110", "--users-file", self.users]
        cases = [
            (["--port", "110", "--scenario", "login", "--users-file", self.users], "--host"),
            (base + ["--scenario", "fetch"], "--scenario"),
            (base, "--scenario"),
            (base + ["--scenario", "login", "--connections", "0"], "--connections"),
            (base + ["--scenario", "login", "--duration", "-1"], "--duration"),
            (base + ["--scenario", "login", "--tls", "ssl"], "--tls"),
            (["--host", "127.0.0.1", "--port", "abc", "--scenario", "login", "--users-file",
              self.users], "port"),
            (base + ["--scenario", "login", "--no-such-option"], "no-such-option"),
        ]
        for args, mentioned in cases:
            out = run_bench(*args)
            self.assertEqual(out.returncode, EX_USAGE, (args, out.stdout, out.stderr))
            self.assertIn(mentioned, out.stderr, args)
            self.assertEqual(out.stdout, "", args)

    def test_malformed_users_file_exits_65(self):
        bad = os.path.join(self.dir, "bad-users")
        with open(bad, "w") as f:
            f.write("no colon here\n")
        out = run_bench("--host", "127.0.0.1", "--port", "110", "--scenario", "login",
                        "--users-file", bad)
        self.assertEqual(out.returncode, 65, out.stderr)
        self.assertIn("line 1", out.stderr)


if __name__ == "__main__":
    unittest.main()
