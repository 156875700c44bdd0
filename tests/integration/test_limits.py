"""Limits and policies of a real server: connection caps, timeouts, LOGIN-DELAY, privileges,
plaintext policy, configuration errors."""

import os
import poplib
import pwd
import subprocess
import time
import unittest

from harness import MSG_CRLF, POPLAR_BIN, PoplarServer


class LimitsTest(unittest.TestCase):
    def test_per_ip_connection_cap(self):
        with PoplarServer(limits_extra="max_connections_per_ip = 3") as server:
            clients = [server.connect() for _ in range(3)]
            for c in clients:
                self.assertTrue(c.line().startswith(b"+OK"))
            extra = server.connect()
            line = extra.line()
            self.assertTrue(line.startswith(b"-ERR [SYS/TEMP]"), line)
            self.assertTrue(extra.closed_by_server())
            clients[0].cmd("QUIT")
            clients[0].close()
            deadline = time.monotonic() + 10
            while True:  # the slot is freed once the server has seen the close
                again = server.connect()
                if again.line().startswith(b"+OK"):
                    break
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)

    def test_idle_connection_before_login_is_closed_without_reply(self):
        with PoplarServer(limits_extra="login_timeout_s = 1") as server:
            c = server.connect(timeout=15)
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertTrue(c.closed_by_server(timeout=10))
            self.assertEqual(c.buf, b"", "RFC 1939 §3: close without a response")
            self.assertIn("timeout", server.log_text())

    def test_authorization_phase_is_capped_even_with_traffic(self):
        with PoplarServer(limits_extra="login_timeout_s = 1") as server:
            c = server.connect(timeout=15)
            self.assertTrue(c.line().startswith(b"+OK"))
            deadline = time.monotonic() + 10
            closed = False
            while time.monotonic() < deadline:
                try:
                    c.send(b"CAPA\r\n")
                    c.line()
                    c.multiline()
                except (EOFError, ConnectionResetError, BrokenPipeError):
                    closed = True
                    break
                time.sleep(0.2)
            self.assertTrue(closed, "CAPA every 0.2 s kept an unauthenticated connection open")

    def test_sighup_does_not_stop_the_server(self):
        import signal
        with PoplarServer() as server:
            server.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while "sighup" not in server.log_text():
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            c.user("alice")
            c.pass_("secret")
            c.quit()
            self.assertIsNone(server.proc.poll())

    def test_idle_timeout_below_ten_minutes_is_a_config_error(self):
        server = PoplarServer(limits_extra="idle_timeout_s = 60")
        try:
            with self.assertRaises(RuntimeError) as e:
                server.start()
            self.assertIn("idle_timeout_s", str(e.exception))
        finally:
            server.cleanup()

    def test_login_delay_is_announced_and_enforced(self):
        with PoplarServer(pop3_extra="login_delay_s = 300") as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            self.assertIn("LOGIN-DELAY", c.capa())
            self.assertEqual(c.capa()["LOGIN-DELAY"], ["300"])
            c.user("alice")
            c.pass_("secret")
            c.quit()
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            c.user("alice")
            with self.assertRaises(poplib.error_proto) as e:
                c.pass_("secret")
            self.assertIn(b"[LOGIN-DELAY]", e.exception.args[0])
            c.close()

    def test_expire_is_announced(self):
        with PoplarServer(pop3_extra="expire = 30") as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            self.assertEqual(c.capa()["EXPIRE"][0], "30")
            c.close()
        with PoplarServer() as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            self.assertEqual(c.capa()["EXPIRE"][0].upper(), "NEVER")
            c.close()

    def test_unknown_config_key_names_key_and_line(self):
        server = PoplarServer(limits_extra="max_conections = 5")
        try:
            with self.assertRaises(RuntimeError) as e:
                server.start()
            self.assertIn("max_conections", str(e.exception))
        finally:
            server.cleanup()

    def test_tls_listener_without_tls_table_is_refused_clearly(self):
        server = PoplarServer(config_extra='\n[[listen]]\naddress = "127.0.0.1:0"\ntls = "implicit"\n')
        try:
            with self.assertRaises(RuntimeError) as e:
                server.start()
            self.assertIn('tls = "implicit" needs a [tls] table with certificate and private_key',
                          str(e.exception))
        finally:
            server.cleanup()

    @unittest.skipUnless(os.geteuid() == 0, "needs root to test dropping privileges")
    def test_server_started_as_root_drops_to_the_configured_user(self):
        nobody = pwd.getpwnam("nobody")
        server = PoplarServer(top_extra='user = "nobody"\ngroup = "nogroup"')
        try:
            # The mail user must be able to reach its files once root is gone.
            for dirpath, dirnames, filenames in os.walk(server.dir):
                for name in dirnames + filenames:
                    os.chown(os.path.join(dirpath, name), nobody.pw_uid, nobody.pw_gid)
            os.chown(server.dir, nobody.pw_uid, nobody.pw_gid)
            server.start()
            with open(f"/proc/{server.proc.pid}/status") as f:
                status = f.read()
            uid_line = [l for l in status.splitlines() if l.startswith("Uid:")][0]
            self.assertEqual(set(uid_line.split()[1:]), {str(nobody.pw_uid)}, uid_line)
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            c.user("alice")
            c.pass_("secret")
            self.assertEqual(c.stat()[0], 1)
            c.quit()
        finally:
            server.cleanup()


class CommandLineTest(unittest.TestCase):
    def test_version_and_help(self):
        out = subprocess.run([POPLAR_BIN, "--version"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        self.assertIn("poplar", out.stdout)
        out = subprocess.run([POPLAR_BIN, "--help"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        for sub in ("serve", "user", "hash"):
            self.assertIn(sub, out.stdout)

    def test_missing_config_is_a_clear_error(self):
        out = subprocess.run([POPLAR_BIN, "serve", "-c", "/nonexistent/poplar.toml"],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("/nonexistent/poplar.toml", out.stderr)

    def test_user_add_list_passwd_del_round_trip(self):
        import tempfile
        d = tempfile.mkdtemp()
        path = os.path.join(d, "users")
        run = lambda *a, inp=None: subprocess.run([POPLAR_BIN, "user", *a, "-f", path],
                                                  input=inp, capture_output=True, text=True,
                                                  timeout=60)
        self.assertEqual(run("add", "carol", "--scheme", "SHA512-CRYPT", inp="pw one\n").returncode, 0)
        self.assertEqual(run("add", "carol", inp="pw\n").returncode, 65)  # exists: EX_DATAERR
        self.assertIn("carol", run("list").stdout)
        with open(path) as f:
            content = f.read()
        self.assertIn("carol:{SHA512-CRYPT}$6$", content)
        self.assertNotIn("pw one", content)
        self.assertEqual(os.stat(path).st_mode & 0o077, 0, "passwd-file must not be world-readable")
        self.assertEqual(run("passwd", "carol", inp="pw two\n").returncode, 0)
        self.assertEqual(run("del", "carol").returncode, 0)
        self.assertNotIn("carol", run("list").stdout)
        self.assertNotEqual(run("del", "carol").returncode, 0)


class DemoTest(unittest.TestCase):
    def test_demo_server_serves_the_demo_mailbox(self):
        import signal
        import socket
        import tempfile
        d = tempfile.mkdtemp()
        with socket.socket() as s, socket.socket() as s2:
            s.bind(("127.0.0.1", 0))
            s2.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            tls_port = s2.getsockname()[1]
        proc = subprocess.Popen([POPLAR_BIN, "serve", "--demo", "--demo-dir", d, "--demo-port",
                                 str(port), "--demo-tls-port", str(tls_port),
                                 "--port-file", os.path.join(d, "port")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(os.path.join(d, "port")):
                self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
            c = poplib.POP3("127.0.0.1", port, timeout=10)
            c.user("demo")
            c.pass_("demo")
            count, _ = c.stat()
            self.assertGreaterEqual(count, 3)
            c.quit()
            # The second listener is POP3S with the demo's self-signed certificate.
            import ssl
            ctx = ssl.create_default_context(cafile=os.path.join(d, "tls", "cert.pem"))
            ctx.check_hostname = False
            c = poplib.POP3_SSL("127.0.0.1", tls_port, context=ctx, timeout=10)
            c.user("demo")
            c.pass_("demo")
            self.assertGreaterEqual(c.stat()[0], 3)
            c.quit()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    unittest.main()
