"""TLS: implicit TLS (RFC 8314) and STLS (RFC 2595) against a real `poplar serve`.

Each server has three listeners: plain (the harness default, first in the port file), STLS and
implicit TLS, with a self-signed certificate made by the openssl CLI for localhost/127.0.0.1.
Clients: Python poplib/ssl, raw sockets, curl and openssl s_client.
"""

import hashlib
import os
import poplib
import shutil
import signal
import socket
import ssl
import subprocess
import time
import unittest

from harness import (MSG_CRLF, MSG_LF_DOTS, PoplarServer, require, unstuffed_wire, wait_until,
                     write_test_certificate)

TLS_LISTENERS = """
[[listen]]
address = "127.0.0.1:0"
tls = "starttls"

[[listen]]
address = "127.0.0.1:0"
tls = "implicit"

[tls]
certificate = "cert.pem"
private_key = "key.pem"
"""


class TlsServer(PoplarServer):
    """A PoplarServer with STLS and implicit-TLS listeners and a test certificate."""

    def __init__(self, **kwargs):
        kwargs["config_extra"] = kwargs.get("config_extra", "") + TLS_LISTENERS
        kwargs.setdefault("mailboxes", {"alice": [MSG_CRLF, MSG_LF_DOTS]})
        super().__init__(**kwargs)
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        write_test_certificate(self.cert, self.key)

    @property
    def stls_port(self):
        return self.ports[1]

    @property
    def tls_port(self):
        return self.ports[2]

    def client_context(self, cafile=None):
        ctx = ssl.create_default_context(cafile=cafile or self.cert)
        return ctx

    def fingerprint(self):
        """SHA-256 of the certificate a new implicit-TLS connection presents."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def client_hello_bytes():
    """The first flight of a real TLS client, made in memory."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class ImplicitTlsTest(unittest.TestCase):
    def test_pop3_ssl_logs_in_and_retrieves(self):
        with TlsServer() as server:
            c = poplib.POP3_SSL("localhost", server.tls_port, context=server.client_context(),
                                timeout=10)
            self.assertTrue(c.getwelcome().startswith(b"+OK"))
            caps = c.capa()
            self.assertNotIn("STLS", caps)
            self.assertIn("USER", caps)
            c.user("alice")
            c.pass_("secret")
            self.assertEqual(c.stat()[0], 2)
            _, lines, _ = c.retr(1)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", unstuffed_wire(MSG_CRLF))
            c.quit()
            log = server.log_text()
            self.assertIn("tls rip=127.0.0.1 version=TLSv1.3", log)
            self.assertRegex(log, r"login user=alice .*tls=TLSv1\.3")

    def test_plaintext_client_on_implicit_port_is_closed(self):
        with TlsServer() as server:
            raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=10)
            raw.sendall(b"USER alice\r\nPASS secret\r\n")
            data = b""
            raw.settimeout(10)
            try:
                while True:
                    chunk = raw.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            raw.close()
            self.assertNotIn(b"+OK", data)
            wait_until(lambda: "tls-handshake-failed" in server.log_text())
            # The server still serves others.
            c = poplib.POP3_SSL("localhost", server.tls_port, context=server.client_context(),
                                timeout=10)
            c.user("alice")
            c.pass_("secret")
            c.quit()

    def test_client_stalling_mid_handshake_is_closed_by_the_login_deadline(self):
        with TlsServer(limits_extra="login_timeout_s = 1") as server:
            hello = client_hello_bytes()
            raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=10)
            raw.sendall(hello[: len(hello) // 2])
            started = time.monotonic()
            raw.settimeout(10)
            try:
                data = raw.recv(4096)
            except ConnectionResetError:
                data = b""
            self.assertEqual(data, b"")
            self.assertLess(time.monotonic() - started, 8)
            raw.close()
            wait_until(lambda: "tls-handshake-failed" in server.log_text())
            self.assertIn("error=timeout", server.log_text())
            c = poplib.POP3_SSL("localhost", server.tls_port, context=server.client_context(),
                                timeout=10)
            c.user("alice")
            c.pass_("secret")
            c.quit()

    def test_connections_that_vanish_mid_handshake_leak_nothing(self):
        with TlsServer() as server:
            pid = server.proc.pid

            def sockets():
                count = 0
                for f in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        count += os.readlink(f"/proc/{pid}/fd/{f}").startswith("socket:")
                    except FileNotFoundError:
                        pass  # closed between listdir and readlink
                return count

            # Listeners (one descriptor per listener and event loop) and the signal pipe.
            baseline = sockets()
            hello = client_hello_bytes()
            for i in range(30):
                raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=10)
                raw.sendall(hello[: (i * 37) % len(hello)])
                raw.close()
            # Every half-done connection is gone: only what was there before remains.
            wait_until(lambda: sockets() <= baseline)
            c = poplib.POP3_SSL("localhost", server.tls_port, context=server.client_context(),
                                timeout=10)
            self.assertIn("USER", c.capa())
            c.quit()

    def test_tls_1_1_is_refused(self):
        require("openssl")
        with TlsServer() as server:
            out = subprocess.run(
                ["openssl", "s_client", "-connect", f"127.0.0.1:{server.tls_port}", "-tls1_1",
                 "-cipher", "DEFAULT@SECLEVEL=0"],
                input=b"QUIT\r\n", capture_output=True, timeout=30)
            self.assertNotEqual(out.returncode, 0)
            self.assertNotIn(b"+OK", out.stdout)

    def test_tls_1_2_works_with_an_ecdhe_aead_cipher(self):
        with TlsServer() as server:
            ctx = server.client_context()
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            c = poplib.POP3_SSL("localhost", server.tls_port, context=ctx, timeout=10)
            cipher, version, _ = c.sock.cipher()
            self.assertEqual(version, "TLSv1.2")
            self.assertTrue(cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA" in cipher),
                            cipher)
            c.quit()


class StlsTest(unittest.TestCase):
    def test_stls_then_capa_shows_no_stls(self):
        with TlsServer() as server:
            c = poplib.POP3("127.0.0.1", server.stls_port, timeout=10)
            self.assertIn("STLS", c.capa())
            c.stls(context=server.client_context())
            caps = c.capa()
            self.assertNotIn("STLS", caps)
            self.assertIn("USER", caps)
            c.user("alice")
            c.pass_("secret")
            _, lines, _ = c.retr(2)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", unstuffed_wire(MSG_LF_DOTS))
            c.quit()
            self.assertRegex(server.log_text(), r"login user=alice .*tls=TLSv1\.3")

    def test_plain_listener_offers_no_stls(self):
        with TlsServer() as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            self.assertNotIn("STLS", c.capa())
            c.quit()

    def test_input_pipelined_behind_stls_is_discarded(self):
        # RFC 2595 §4 / CVE-2011-0411: "USER evil" sent in the same packet as STLS must not be
        # executed inside TLS.
        with TlsServer() as server:
            raw = socket.create_connection(("127.0.0.1", server.stls_port), timeout=10)
            f = raw.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))
            raw.sendall(b"STLS\r\nUSER evil\r\n")
            self.assertTrue(f.readline().startswith(b"+OK"))
            tls = server.client_context().wrap_socket(raw, server_hostname="localhost")
            tf = tls.makefile("rb")
            tls.sendall(b"PASS secret\r\n")
            # Had "USER evil" run, PASS would be checked for "evil" ([AUTH] failure). Without a
            # USER, PASS is a sequence error.
            first = tf.readline()
            self.assertTrue(first.startswith(b"-ERR"), first)
            self.assertNotIn(b"[AUTH]", first)
            tls.sendall(b"USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n")
            self.assertTrue(tf.readline().startswith(b"+OK"))
            self.assertTrue(tf.readline().startswith(b"+OK"))
            self.assertTrue(tf.readline().startswith(b"+OK 2 "))
            tls.close()
            self.assertNotIn("evil", server.log_text())

    def test_stls_twice_is_an_error_inside_tls(self):
        with TlsServer() as server:
            c = poplib.POP3("127.0.0.1", server.stls_port, timeout=10)
            c.stls(context=server.client_context())
            with self.assertRaises(poplib.error_proto) as e:
                c._shortcmd("STLS")
            self.assertTrue(str(e.exception).startswith("b'-ERR"), e.exception)
            c.user("alice")
            c.pass_("secret")
            c.quit()

    def test_stls_after_login_is_an_error(self):
        with TlsServer() as server:
            c = poplib.POP3("127.0.0.1", server.stls_port, timeout=10)
            c.user("alice")  # loopback: plaintext allowed
            c.pass_("secret")
            with self.assertRaises(poplib.error_proto):
                c._shortcmd("STLS")
            self.assertEqual(c.stat()[0], 2)
            c.quit()

    def test_garbage_instead_of_handshake_after_stls_closes_only_that_connection(self):
        with TlsServer() as server:
            c = socket.create_connection(("127.0.0.1", server.stls_port), timeout=10)
            f = c.makefile("rb")
            f.readline()
            c.sendall(b"STLS\r\n")
            self.assertTrue(f.readline().startswith(b"+OK"))
            c.sendall(b"this is not a ClientHello\r\n" * 10)
            c.settimeout(10)
            try:
                rest = c.recv(4096)
                while rest and b"+OK" not in rest:
                    nxt = c.recv(4096)
                    if not nxt:
                        break
                    rest += nxt
            except ConnectionResetError:
                rest = b""
            self.assertNotIn(b"+OK", rest)
            c.close()
            wait_until(lambda: "tls-handshake-failed" in server.log_text())
            p = poplib.POP3("127.0.0.1", server.stls_port, timeout=10)
            p.stls(context=server.client_context())
            p.quit()


class TlsClientsTest(unittest.TestCase):
    def test_curl_pop3s_and_starttls_retrieve_exactly(self):
        require("curl")
        with TlsServer() as server:
            out = subprocess.run(
                ["curl", "-sS", "--cacert", server.cert,
                 f"pop3s://alice:secret@localhost:{server.tls_port}/2"],
                capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout, unstuffed_wire(MSG_LF_DOTS))
            out = subprocess.run(
                ["curl", "-sS", "--ssl-reqd", "--cacert", server.cert,
                 f"pop3://alice:secret@localhost:{server.stls_port}/1"],
                capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout, unstuffed_wire(MSG_CRLF))

    def test_curl_ssl_reqd_fails_on_a_listener_without_stls(self):
        require("curl")
        with TlsServer() as server:
            out = subprocess.run(
                ["curl", "-sS", "--ssl-reqd", "--cacert", server.cert,
                 f"pop3://alice:secret@localhost:{server.port}/1"],
                capture_output=True, timeout=60)
            self.assertNotEqual(out.returncode, 0)

    def test_openssl_s_client_starttls_pop3(self):
        require("openssl")
        with TlsServer() as server:
            out = subprocess.run(
                ["openssl", "s_client", "-quiet", "-starttls", "pop3", "-CAfile", server.cert,
                 "-verify_return_error", "-connect", f"127.0.0.1:{server.stls_port}"],
                input=b"CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n",
                capture_output=True, timeout=30)
            self.assertIn(b"USER\r\n", out.stdout)
            self.assertNotIn(b"STLS", out.stdout)
            self.assertIn(b"+OK 2 ", out.stdout)


class ReloadTest(unittest.TestCase):
    def test_sighup_reloads_certificate_without_dropping_sessions(self):
        with TlsServer() as server:
            old = server.fingerprint()
            session = poplib.POP3_SSL("localhost", server.tls_port,
                                      context=server.client_context(), timeout=10)
            session.user("alice")
            session.pass_("secret")
            # New certificate and key, written aside and renamed over the old files.
            new_cert = os.path.join(server.dir, "new-cert.pem")
            new_key = os.path.join(server.dir, "new-key.pem")
            write_test_certificate(new_cert, new_key)
            os.rename(new_key, server.key)
            os.rename(new_cert, server.cert)
            server.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "tls-reloaded" in server.log_text())
            self.assertNotEqual(server.fingerprint(), old)
            # The new certificate verifies for new clients...
            c = poplib.POP3_SSL("localhost", server.tls_port, context=server.client_context(),
                                timeout=10)
            c.quit()
            # ...and the session opened before the reload goes on.
            self.assertEqual(session.stat()[0], 2)
            session.quit()

    def test_sighup_with_broken_certificate_keeps_the_old_one(self):
        with TlsServer() as server:
            old = server.fingerprint()
            saved = os.path.join(server.dir, "saved-cert.pem")
            shutil.copy(server.cert, saved)
            with open(server.cert, "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
            server.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "tls-reload-failed" in server.log_text())
            self.assertIn("cert.pem", server.log_text().split("tls-reload-failed", 1)[1])
            self.assertEqual(server.fingerprint(), old)
            c = poplib.POP3_SSL("localhost", server.tls_port,
                                context=server.client_context(cafile=saved), timeout=10)
            c.user("alice")
            c.pass_("secret")
            c.quit()
            self.assertIsNone(server.proc.poll())


if __name__ == "__main__":
    unittest.main()
