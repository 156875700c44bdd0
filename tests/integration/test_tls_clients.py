"""Issue 3, done when: real clients log in with every SASL mechanism (and USER/PASS, APOP) over
STLS and over implicit TLS, and each fetches every message of a test Maildir byte for byte.

Clients: Python poplib (with a SCRAM client written here), curl, fetchmail, mpop and getmail
(getmail6), all installed by scripts/install-deps. One TlsServer (test_tls.py: a plain, an STLS
and an implicit-TLS listener, a self-signed certificate for localhost) per test class; clients
keep the mail on the server, so every case sees the same Maildir. The server allows plaintext
from loopback even without TLS, so every case also checks the server log: each login it caused
carries the expected user, method= and tls=TLSv1.x, and no failed login happened in between
(a client cannot have fallen back to another mechanism unnoticed).
"""

import base64
import hashlib
import hmac
import os
import poplib
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import (MSG_BIG, MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, poplar_hash, require,
                     unstuffed_wire, wait_until)
from test_tls import TlsServer


MECHANISMS = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"]
AUTH_CONFIG = 'apop = true\nmechanisms = ["%s"]' % '", "'.join(MECHANISMS)

# The test Maildir: the harness's wire-rule messages plus a line of 5000 octets (more than
# poplib's default _MAXLINE of 2048), 8-bit UTF-8 body text, and about 300 KB with dot-stuffing.
MSG_LONG_LINE = (b"Subject: one line of 5000 octets\nTo: alice@example.org\n\n"
                 + b"L" * 5000 + b"\n.a dot after the long line\n")
MSG_UTF8_BODY = ("From: zoe@example.org\nSubject: 8-bit body\nMIME-Version: 1.0\n"
                 "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                 "Grüße aus Köln, Ζεύς, 日本語, 🌳.\n.Ünïcödé after a dot\n").encode()
MSG_MEDIUM = b"Subject: medium, about 300 KB\n\n" + b"".join(
    (b"." if i % 97 == 0 else b"") + b"line %05d of a medium message, padded like text......\n" % i
    for i in range(4800))
MESSAGES = [MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, MSG_LONG_LINE, MSG_UTF8_BODY, MSG_MEDIUM]

# Users: a {PLAIN} entry serves every mechanism; the hashed entries serve only some.
ALICE = ("alice", "secret")            # {PLAIN}: USER/PASS, APOP and every SASL mechanism
SAM = ("sam", "sam pass 256")          # {SCRAM-SHA-256}: SCRAM-SHA-256(-PLUS), PLAIN, LOGIN, USER
CRAM = ("cram", "cram-md5 pass")       # {CRAM-MD5}: CRAM-MD5, PLAIN, LOGIN, USER
JOERG = ("jörg", "pässwörd")           # {PLAIN}, a UTF-8 name and password (RFC 6856 UTF8)
BULK = ("bulk", "bulk pass")           # {PLAIN}, holds MSG_BIG (2.6 MB) alone

TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")


def local_form(stored: bytes) -> bytes:
    """What mpop, fetchmail and getmail deliver: the un-stuffed wire form with LF line ends."""
    return unstuffed_wire(stored).replace(b"\r\n", b"\n")


def log_name(user: str) -> str:
    """A user name as the server's log writes it (base/log.cc escape_value)."""
    raw = user.encode()
    if raw and all(0x20 < o < 0x7f and o not in b'"\\=' for o in raw):
        return user
    return '"%s"' % "".join("\\" + chr(o) if o in b'"\\' else chr(o) if 0x20 <= o < 0x7f
                            else "\\x%02x" % o for o in raw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def start_server():
    users = {
        ALICE[0]: "{PLAIN}" + ALICE[1],
        SAM[0]: poplar_hash(SAM[1], "SCRAM-SHA-256"),
        CRAM[0]: poplar_hash(CRAM[1], "CRAM-MD5"),
        JOERG[0]: "{PLAIN}" + JOERG[1],
        BULK[0]: "{PLAIN}" + BULK[1],
    }
    mailboxes = {name: list(MESSAGES) for name in (ALICE[0], SAM[0], CRAM[0], JOERG[0])}
    mailboxes[BULK[0]] = [MSG_BIG]
    return TlsServer(users=users, mailboxes=mailboxes, auth_extra=AUTH_CONFIG).start()


_saved_maxline = poplib._MAXLINE


def setUpModule():
    poplib._MAXLINE = 1 << 20  # MSG_LONG_LINE has a line of 5000 octets


def tearDownModule():
    poplib._MAXLINE = _saved_maxline


class ClientTestCase(unittest.TestCase):
    """One server per class; helpers to check the bytes clients got and the logins they made."""

    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = start_server()

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.cleanup()

    def log_offset(self):
        return os.path.getsize(self.server.log_path)

    def log_since(self, offset):
        with open(self.server.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def assert_logins(self, offset, user, method, count=None, tls=TLS_VERSIONS):
        """Every login the server logged since offset was `user` with `method` over TLS (one of
        `tls`), there were `count` of them (at least one if None), and none failed."""
        if count is None:
            wait_until(lambda: " login user=" in self.log_since(offset))
        else:
            wait_until(lambda: self.log_since(offset).count(" login user=") >= count)
        text = self.log_since(offset)
        logins = [line for line in text.splitlines() if " login user=" in line]
        if count is not None:
            self.assertEqual(len(logins), count, text)
        for line in logins:
            m = re.search(r" login user=(\S+) rip=\S+ method=(\S+) messages=\d+ tls=(\S+) ",
                          line)
            self.assertIsNotNone(m, line)
            self.assertEqual(m.groups(), (log_name(user), method, m.group(3)), line)
            self.assertIn(m.group(3), tls, line)
        for bad in ("login-failed", "auth-failed"):
            self.assertNotIn(bad, text)

    def assert_same_bytes(self, got: bytes, want: bytes, what=""):
        if got == want:
            return
        i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]),
                 min(len(got), len(want)))
        self.fail("%s: %d octets received, %d expected; first difference at offset %d: "
                  "got %r, expected %r" % (what, len(got), len(want), i, got[max(0, i - 40):i + 40],
                                           want[max(0, i - 40):i + 40]))

    def assert_same_messages(self, got, want, what=""):
        """Compares two collections of messages regardless of order."""
        got, want = sorted(got), sorted(want)
        self.assertEqual(len(got), len(want), what)
        for g, w in zip(got, want):
            self.assert_same_bytes(g, w, what)


# -- Python poplib -------------------------------------------------------------------------------

class ScramClient:
    """The client side of SCRAM (RFC 5802, RFC 7677). channel_binding "tls-server-end-point"
    (RFC 5929 §4) is for the -PLUS variants; gs2_flag is "n" or "y" otherwise."""

    def __init__(self, mechanism, user, password, channel_binding=None, gs2_flag="n"):
        self.hash = "sha256" if mechanism.startswith("SCRAM-SHA-256") else "sha1"
        self.password = password
        self.channel_binding = channel_binding
        self.nonce = b64(os.urandom(18))
        self.gs2 = f"p={channel_binding},," if channel_binding else f"{gs2_flag},,"
        self.bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), self.nonce)

    def _hmac(self, key, data):
        return hmac.new(key, data, self.hash).digest()

    def first(self) -> str:
        return b64((self.gs2 + self.bare).encode())

    def final(self, challenge: bytes, sock) -> str:
        """The client-final message for the server-first challenge ("+ <base64>")."""
        server_first = base64.b64decode(challenge[2:], validate=True).decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        assert attrs["r"].startswith(self.nonce) and attrs["r"] != self.nonce, server_first
        salted = hashlib.pbkdf2_hmac(self.hash, self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = self._hmac(salted, b"Client Key")
        cb_data = b""
        if self.channel_binding == "tls-server-end-point":
            # The test certificate is signed with ecdsa-with-SHA256: the hash is SHA-256.
            cb_data = hashlib.sha256(sock.getpeercert(binary_form=True)).digest()
        without_proof = f"c={b64(self.gs2.encode() + cb_data)},r={attrs['r']}"
        auth_message = f"{self.bare},{server_first},{without_proof}".encode()
        signature = self._hmac(hashlib.new(self.hash, client_key).digest(), auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = self._hmac(salted, b"Server Key")
        self.expected_final = b"+ " + b64(
            b"v=" + b64(self._hmac(server_key, auth_message)).encode()).encode()
        return b64(f"{without_proof},p={b64(proof)}".encode())


def scram_login(c, mechanism, user, password, channel_binding=None):
    """SCRAM over a poplib connection, the client-first message as AUTH's initial response;
    checks the server signature (sent as additional data, answered with an empty line)."""
    client = ScramClient(mechanism, user, password, channel_binding)
    challenge = c._shortcmd(f"AUTH {mechanism} {client.first()}")
    assert challenge.startswith(b"+ "), challenge
    server_final = c._shortcmd(client.final(challenge, c.sock))
    assert server_final == client.expected_final, (server_final, client.expected_final)
    return c._shortcmd("")  # RFC 5034 §4: an empty response to the additional data


def send_line(c, line: str) -> bytes:
    """One command line and its reply line, whatever it is (no exception on -ERR)."""
    c._putcmd(line)
    return c._getline()[0]


def cram_md5_login(c, user, password):
    reply = c._shortcmd("AUTH CRAM-MD5")
    assert reply.startswith(b"+ "), reply
    challenge = base64.b64decode(reply[2:], validate=True)
    assert re.fullmatch(rb"<[^<>@]+@[^<>]+>", challenge), challenge  # RFC 2195 msg-id form
    digest = hmac.new(password.encode(), challenge, "md5").hexdigest()
    return c._shortcmd(b64(f"{user} {digest}".encode()))


def plain_login(c, user, password, initial_response):
    message = b64(b"\0" + user.encode() + b"\0" + password.encode())
    if initial_response:
        return c._shortcmd("AUTH PLAIN " + message)
    reply = c._shortcmd("AUTH PLAIN")
    assert reply == b"+ ", reply  # an empty challenge: "+ " and CRLF
    return c._shortcmd(message)


def login_login(c, user, password):
    reply = c._shortcmd("AUTH LOGIN")
    assert reply.startswith(b"+ "), reply
    reply = c._shortcmd(b64(user.encode()))
    assert reply.startswith(b"+ "), reply
    return c._shortcmd(b64(password.encode()))


class PoplibTest(ClientTestCase):
    """poplib over STLS (stls() on the starttls port) and implicit TLS (POP3_SSL), utf8() on
    every session, then every login method and a RETR of every message."""

    def connect(self, kind):
        ctx = self.server.client_context()
        if kind == "stls":
            c = poplib.POP3("localhost", self.server.stls_port, timeout=30)
            self.assertIn("STLS", c.capa())
            c.stls(context=ctx)
        else:
            c = poplib.POP3_SSL("localhost", self.server.tls_port, context=ctx, timeout=30)
        self.assertTrue(c.utf8().startswith(b"+OK"))  # RFC 6856: before login, after STLS
        return c

    def fetch_every_message(self, c, messages=MESSAGES):
        self.assertEqual(c.stat()[0], len(messages))
        _, listing, _ = c.list()
        sizes = [int(line.split()[1]) for line in listing]
        for n, stored in enumerate(messages, start=1):
            _, lines, _ = c.retr(n)
            got = b"".join(line + b"\r\n" for line in lines)
            self.assert_same_bytes(got, unstuffed_wire(stored), f"message {n}")
            self.assertEqual(sizes[n - 1], len(got), f"LIST size of message {n}")
        self.assertTrue(c.quit().startswith(b"+OK"))

    def check(self, login, user, method, kinds=("stls", "implicit")):
        """login(c) logs in on a fresh connection of each kind; then every message is fetched
        and the server log must show the login with `method` over TLS."""
        for kind in kinds:
            with self.subTest(kind=kind, method=method, user=user):
                offset = self.log_offset()
                c = self.connect(kind)
                reply = login(c)
                self.assertTrue(reply.startswith(b"+OK"), reply)
                self.fetch_every_message(c)
                self.assert_logins(offset, user, method, count=1)

    def test_user_pass(self):
        for user, password in (ALICE, SAM, CRAM):
            self.check(lambda c: (c.user(user), c.pass_(password))[1], user, "USER")

    def test_apop(self):
        self.check(lambda c: c.apop(*ALICE), ALICE[0], "APOP")

    def test_utf8_user_name_with_user_pass_and_apop(self):
        self.check(lambda c: (c.user(JOERG[0]), c.pass_(JOERG[1]))[1], JOERG[0], "USER")
        self.check(lambda c: c.apop(*JOERG), JOERG[0], "APOP")

    def test_capa_offers_every_mechanism_and_plus_variants_over_tls(self):
        for kind in ("stls", "implicit"):
            c = self.connect(kind)
            sasl = c.capa().get("SASL", [])
            for mechanism in MECHANISMS + ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS"]:
                self.assertIn(mechanism, sasl, kind)
            c.quit()

    def test_sasl_plain_with_and_without_initial_response(self):
        for ir in (True, False):
            self.check(lambda c: plain_login(c, *ALICE, initial_response=ir), ALICE[0], "PLAIN")
        self.check(lambda c: plain_login(c, *SAM, initial_response=True), SAM[0], "PLAIN")

    def test_sasl_login(self):
        self.check(lambda c: login_login(c, *ALICE), ALICE[0], "LOGIN")

    def test_sasl_cram_md5_for_plain_and_cram_md5_entries(self):
        for user, password in (ALICE, CRAM):
            self.check(lambda c: cram_md5_login(c, user, password), user, "CRAM-MD5")

    def test_sasl_scram_sha_1(self):
        self.check(lambda c: scram_login(c, "SCRAM-SHA-1", *ALICE), ALICE[0], "SCRAM-SHA-1")

    def test_sasl_scram_sha_256_for_plain_and_scram_entries(self):
        for user, password in (ALICE, SAM):
            self.check(lambda c: scram_login(c, "SCRAM-SHA-256", user, password), user,
                       "SCRAM-SHA-256")

    def test_sasl_scram_plus_with_tls_server_end_point_binding(self):
        for mechanism, (user, password) in (("SCRAM-SHA-1-PLUS", ALICE),
                                            ("SCRAM-SHA-256-PLUS", ALICE),
                                            ("SCRAM-SHA-256-PLUS", SAM)):
            self.check(lambda c: scram_login(c, mechanism, user, password,
                                             channel_binding="tls-server-end-point"),
                       user, mechanism)

    def test_sasl_scram_with_a_utf8_user_name(self):
        self.check(lambda c: scram_login(c, "SCRAM-SHA-256", *JOERG), JOERG[0], "SCRAM-SHA-256")

    def test_scram_wrong_password_and_downgrade_flag_fail(self):
        # A wrong proof, and "y" (the client thinks the server has no channel binding, RFC 5802
        # §6) although CAPA listed -PLUS: both must end in -ERR [AUTH], never in a login.
        for kind in ("stls", "implicit"):
            for password, flag in (("wrong", "n"), (ALICE[1], "y")):
                with self.subTest(kind=kind, password=password, flag=flag):
                    c = self.connect(kind)
                    client = ScramClient("SCRAM-SHA-256", ALICE[0], password, gs2_flag=flag)
                    reply = send_line(c, "AUTH SCRAM-SHA-256 " + client.first())
                    if reply.startswith(b"+ "):
                        reply = send_line(c, client.final(reply, c.sock))
                    if reply.startswith(b"+ "):  # the server-error as additional data
                        self.assertTrue(base64.b64decode(reply[2:]).startswith(b"e="), reply)
                        reply = send_line(c, "")
                    self.assertTrue(reply.startswith(b"-ERR [AUTH]"), reply)
                    # The session goes on: a correct login on the same connection works.
                    self.assertTrue(cram_md5_login(c, *ALICE).startswith(b"+OK"))
                    c.quit()


# -- curl ----------------------------------------------------------------------------------------

class CurlTest(ClientTestCase):
    """curl 7.88: pop3s:// on the implicit port and pop3:// --ssl-reqd on the STLS port with
    --cacert, each message fetched by number (one curl run, URL globbing [1-N]) and compared to
    the wire form, then the listing. --login-options picks the method: curl has no SCRAM, and
    it cannot be made to use USER/PASS while the greeting offers APOP (its order is SASL, APOP,
    USER); test_tls.py covers curl with USER/PASS."""

    def setUp(self):
        require("curl")
        self.out = tempfile.mkdtemp(prefix="curl-", dir=self.server.dir)

    def curl(self, kind, user, password, login_options, path):
        if kind == "pop3s":
            url, extra = f"pop3s://localhost:{self.server.tls_port}/{path}", []
        else:
            url, extra = f"pop3://localhost:{self.server.stls_port}/{path}", ["--ssl-reqd"]
        options = ["--login-options", login_options] if login_options else []
        cmd = ["curl", "-sS", "--cacert", self.server.cert, "--user", f"{user}:{password}",
               *extra, *options, url]
        return cmd

    def check(self, user, password, login_options, method, messages=MESSAGES):
        for kind in ("pop3s", "pop3+ssl-reqd"):
            with self.subTest(kind=kind, login_options=login_options, user=user):
                offset = self.log_offset()
                pattern = os.path.join(self.out, f"{kind}-{method}-{user}-#1")
                cmd = self.curl(kind, user, password, login_options, f"[1-{len(messages)}]")
                out = subprocess.run(cmd + ["-o", pattern], capture_output=True, timeout=120)
                self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace")
                                 + self.log_since(offset))
                for n, stored in enumerate(messages, start=1):
                    with open(pattern.replace("#1", str(n)), "rb") as f:
                        self.assert_same_bytes(f.read(), unstuffed_wire(stored), f"message {n}")
                # The listing (LIST without a path) gives the sizes of exactly those octets.
                out = subprocess.run(self.curl(kind, user, password, login_options, ""),
                                     capture_output=True, timeout=60)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(out.stdout, b"".join(
                    b"%d %d\r\n" % (n, len(unstuffed_wire(m)))
                    for n, m in enumerate(messages, start=1)))
                self.assert_logins(offset, user, method)

    def test_apop(self):
        self.check(*ALICE, "AUTH=+APOP", "APOP")

    def test_sasl_plain(self):
        self.check(*ALICE, "AUTH=PLAIN", "PLAIN")
        self.check(*SAM, "AUTH=PLAIN", "PLAIN")

    def test_sasl_login(self):
        self.check(*ALICE, "AUTH=LOGIN", "LOGIN")

    def test_sasl_cram_md5(self):
        self.check(*ALICE, "AUTH=CRAM-MD5", "CRAM-MD5")
        self.check(*CRAM, "AUTH=CRAM-MD5", "CRAM-MD5")

    def test_big_message(self):
        self.check(*BULK, "AUTH=+APOP", "APOP", messages=[MSG_BIG])


# -- mpop ----------------------------------------------------------------------------------------

class MpopTest(ClientTestCase):
    """mpop (GnuTLS, GNU SASL) with --tls=on, --tls-starttls=on (STLS port) and off (implicit
    port), --tls-trust-file with the test certificate and host localhost; it keeps the mail and
    delivers into a local Maildir without a Received header. A fresh UIDL file per run, so each
    run fetches every message."""

    def setUp(self):
        require("mpop")
        self.work = tempfile.mkdtemp(prefix="mpop-", dir=self.server.dir)

    def supported(self):
        out = subprocess.run(["mpop", "--version"], capture_output=True, text=True, timeout=30)
        m = re.search(r"Supported authentication methods:\n(.*)\n", out.stdout)
        return m.group(1).split() if m else []

    def check(self, user, password, auth, method):
        if auth not in self.supported():
            self.skipTest(f"this mpop does not support --auth={auth}: {self.supported()}")
        for starttls in ("on", "off"):
            with self.subTest(auth=auth, starttls=starttls, user=user):
                port = self.server.stls_port if starttls == "on" else self.server.tls_port
                local = tempfile.mkdtemp(prefix=f"{auth}-{starttls}-", dir=self.work)
                for sub in ("cur", "new", "tmp"):
                    os.mkdir(os.path.join(local, sub))
                offset = self.log_offset()
                out = subprocess.run(
                    ["mpop", "--host=localhost", f"--port={port}", "--tls=on",
                     f"--tls-starttls={starttls}", f"--tls-trust-file={self.server.cert}",
                     f"--auth={auth}", f"--user={user}", f"--passwordeval=echo '{password}'",
                     "--timeout=30", f"--delivery=maildir,{local}",
                     f"--uidls-file={os.path.join(local, 'uidls')}", "--keep=on",
                     "--received-header=off", "--only-new=off"],
                    capture_output=True, env=dict(os.environ, HOME=self.work), timeout=120)
                self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace")[-3000:]
                                 + self.log_since(offset))
                got = []
                for sub in ("new", "cur"):
                    for name in os.listdir(os.path.join(local, sub)):
                        with open(os.path.join(local, sub, name), "rb") as f:
                            got.append(f.read())
                self.assert_same_messages(got, [local_form(m) for m in MESSAGES])
                self.assert_logins(offset, user, method, count=1)

    def test_user_pass(self):
        self.check(*ALICE, "user", "USER")

    def test_apop(self):
        self.check(*ALICE, "apop", "APOP")

    def test_sasl_plain(self):
        self.check(*ALICE, "plain", "PLAIN")

    def test_sasl_login(self):
        self.check(*ALICE, "login", "LOGIN")

    def test_sasl_cram_md5(self):
        self.check(*ALICE, "cram-md5", "CRAM-MD5")
        self.check(*CRAM, "cram-md5", "CRAM-MD5")

    def test_sasl_scram_sha_1(self):
        self.check(*ALICE, "scram-sha-1", "SCRAM-SHA-1")

    def test_sasl_scram_sha_256(self):
        self.check(*ALICE, "scram-sha-256", "SCRAM-SHA-256")
        self.check(*SAM, "scram-sha-256", "SCRAM-SHA-256")


# -- fetchmail -----------------------------------------------------------------------------------

class FetchmailTest(ClientTestCase):
    """fetchmail 6.4 (OpenSSL): `ssl` on the implicit port, and STARTTLS on the STLS port
    (`sslproto 'TLS1.2+'` without `ssl` makes TLS mandatory), with `sslcertck` and `sslcertfile`
    naming the test certificate, server name localhost (fetchmail checks the name). `keep
    fetchall`, a fresh idfile per run, and an MDA writing each message to its own file."""

    def setUp(self):
        require("fetchmail")
        self.work = tempfile.mkdtemp(prefix="fetchmail-", dir=self.server.dir)
        self.mda = os.path.join(self.work, "deliver.sh")
        with open(self.mda, "w") as f:  # one file per message, never overwritten
            f.write('#!/bin/sh\nexec cat > "$(mktemp "$1/msg.XXXXXX")"\n')
        os.chmod(self.mda, 0o700)

    def check(self, user, password, protocol, auth, method):
        local_user = pwd.getpwuid(os.getuid()).pw_name
        # Implicit TLS pinned to TLS 1.2 exactly, so a TLS 1.2 session is covered too.
        for kind, port, tls_options, versions in (
                ("ssl", self.server.tls_port, "ssl sslproto 'TLS1.2'", ("TLSv1.2",)),
                ("starttls", self.server.stls_port, "sslproto 'TLS1.2+'", TLS_VERSIONS)):
            with self.subTest(kind=kind, protocol=protocol, auth=auth, user=user):
                d = tempfile.mkdtemp(prefix=f"{kind}-{protocol}-{auth}-", dir=self.work)
                out_dir = os.path.join(d, "delivered")
                os.mkdir(out_dir)
                rc = os.path.join(d, "fetchmailrc")
                poll = f"poll localhost service {port} protocol {protocol}"
                if auth:
                    poll += f" auth {auth}"
                with open(rc, "w") as f:
                    f.write(f"""{poll} timeout 30
  user "{user}" there with password "{password}" is "{local_user}" here
  keep fetchall {tls_options} sslcertck sslcertfile "{self.server.cert}" norewrite
  mda "{self.mda} {out_dir}"
""")
                os.chmod(rc, 0o600)
                offset = self.log_offset()
                out = subprocess.run(
                    ["fetchmail", "--fetchmailrc", rc, "--pidfile", os.path.join(d, "pid"),
                     "--idfile", os.path.join(d, "ids"), "--nosyslog", "--invisible", "-v"],
                    capture_output=True, env=dict(os.environ, HOME=d, FETCHMAILHOME=d),
                    timeout=120)
                self.assertEqual(out.returncode, 0,
                                 (out.stdout + out.stderr).decode(errors="replace")[-4000:]
                                 + self.log_since(offset))
                got = []
                for name in os.listdir(out_dir):
                    with open(os.path.join(out_dir, name), "rb") as f:
                        got.append(f.read())
                self.assert_same_messages(got, [local_form(m) for m in MESSAGES])
                if kind == "starttls" and b"POP3> STLS" not in out.stdout:
                    # fetchmail 6.4.37 never sends CAPA or STLS for `protocol apop`, even with
                    # sslproto 'TLS1.2+' (which makes TLS mandatory for `protocol pop3`): it logs
                    # in with APOP in the clear. Assert exactly that, then skip this case.
                    self.assertEqual(protocol, "apop", out.stdout.decode(errors="replace"))
                    text = self.log_since(offset)
                    self.assertRegex(text, r" login user=%s rip=\S+ method=APOP messages=\d+\n"
                                     % re.escape(log_name(user)))
                    self.assertNotIn(" tls=", text)
                    self.skipTest("fetchmail sends no STLS with protocol apop (APOP over "
                                  "STARTTLS untestable with fetchmail; implicit TLS is tested)")
                self.assert_logins(offset, user, method, count=1, tls=versions)

    def test_auth_password(self):
        self.check(*ALICE, "pop3", "password", "USER")
        self.check(*SAM, "pop3", "password", "USER")

    def test_protocol_apop(self):
        self.check(*ALICE, "apop", None, "APOP")

    def test_auth_cram_md5(self):
        self.check(*ALICE, "pop3", "cram-md5", "CRAM-MD5")
        self.check(*CRAM, "pop3", "cram-md5", "CRAM-MD5")


# -- getmail -------------------------------------------------------------------------------------

class GetmailTest(ClientTestCase):
    """getmail6: SimplePOP3SSLRetriever on the implicit port with ca_certs, USER/PASS and APOP
    (use_apop); getmail's POP3 retrievers have no STLS and no SASL, so implicit TLS only.
    Destination Maildir, read_all, delete = false, no Delivered-To/Received headers. getmail
    refuses to deliver as root, so as root it runs as nobody in a directory owned by nobody."""

    def setUp(self):
        require("getmail")
        self.as_nobody = os.getuid() == 0
        if self.as_nobody:
            require("setpriv")
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self.work = tempfile.mkdtemp(prefix="poplar-getmail-")
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.cert = os.path.join(self.work, "cert.pem")
        shutil.copy(self.server.cert, self.cert)
        os.chown(self.work, self.uid, self.gid)

    def getmail(self, user, password, use_apop):
        d = tempfile.mkdtemp(prefix="run-", dir=self.work)
        maildir = os.path.join(d, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, sub))
        os.makedirs(os.path.join(d, "getmail"))
        rc = os.path.join(d, "getmail", "getmailrc")
        with open(rc, "w") as f:
            f.write(f"""[retriever]
type = SimplePOP3SSLRetriever
server = localhost
port = {self.server.tls_port}
username = {user}
password = {password}
use_apop = {use_apop}
ca_certs = {self.cert}
timeout = 30

[destination]
type = Maildir
path = {maildir}/

[options]
read_all = true
delete = false
delivered_to = false
received = false
message_log_syslog = false
""")
        for root, dirs, files in os.walk(d):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, self.uid, self.gid)
        cmd = ["getmail", "--getmaildir", os.path.join(d, "getmail"), "--rcfile", rc]
        if self.as_nobody:
            cmd = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                   *cmd]
        for attempt in range(2):
            offset = self.log_offset()  # the logins of this attempt only
            out = subprocess.run(cmd, capture_output=True, env=dict(os.environ, HOME=d), cwd=d,
                                 timeout=120)
            # getmail forks a child per Maildir delivery and waits for its SIGCHLD on a
            # condition it may start waiting on only after the signal was handled: on a loaded
            # machine it then reports "waiting child pid N timed out" after its socket timeout
            # although the message was delivered (seen once in CI, the server log clean). That
            # is getmail's race, not the server's: run it once more (read_all, delete = false,
            # so the second run fetches the same messages; the first run's copies are dropped).
            if out.returncode == 0 or b"waiting child pid" not in out.stdout + out.stderr \
                    or attempt == 1:
                break
            for sub in ("new", "cur"):
                for name in os.listdir(os.path.join(maildir, sub)):
                    os.unlink(os.path.join(maildir, sub, name))
        self.assertEqual(out.returncode, 0, (out.stdout + out.stderr).decode(errors="replace")
                         + self.log_since(offset))
        got = []
        for sub in ("new", "cur"):
            for name in os.listdir(os.path.join(maildir, sub)):
                with open(os.path.join(maildir, sub, name), "rb") as f:
                    got.append(f.read())
        return offset, got

    def strip_return_path(self, delivered: bytes) -> bytes:
        # getmail always writes a Return-Path (from Return-Path/Sender, else "unknown").
        first, rest = delivered.split(b"\n", 1)
        self.assertEqual(first, b"Return-Path: <unknown>")
        return rest

    def check(self, user, password, use_apop, method):
        offset, got = self.getmail(user, password, use_apop)
        self.assert_same_messages([self.strip_return_path(m) for m in got],
                                  [local_form(m) for m in MESSAGES])
        self.assert_logins(offset, user, method, count=1)

    def test_user_pass_over_implicit_tls(self):
        self.check(*ALICE, "false", "USER")
        self.check(*SAM, "false", "USER")

    def test_apop_over_implicit_tls(self):
        self.check(*ALICE, "true", "APOP")


if __name__ == "__main__":
    unittest.main()
