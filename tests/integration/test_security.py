"""Security checks of a real `poplar serve` (issue 7, "Security review" and the bad-file cases of
"Faults and crashes"); docs/security.md points at each test here.

- The serving process, started as root, keeps no root identity in any thread (uids, gids,
  supplementary groups), and still serves mail.
- A Maildir the mail user may not enter: a clear -ERR with the documented response code, one
  log line naming the user and the problem, no crash, other users still served.
- A passwd-file with broken lines: the good users still log in; each broken line is logged
  once, with its line number, never with its password field.
- A corrupt and a truncated poplar-index: login works, sizes are right, one log line each.
- No log line and no reply ever holds a password or an AUTH payload, whatever the mechanism,
  right or wrong, canceled or malformed.

The root-only tests skip with a reason when not run as root (CI runs as root).
"""

import base64
import collections
import glob
import grp
import hashlib
import hmac
import os
import poplib
import pwd
import re
import secrets
import subprocess
import unittest

from harness import MSG_CRLF, MSG_LF_DOTS, POPLAR_BIN, PoplarServer, RawClient, wire_size

ROOT_ONLY = unittest.skipUnless(os.geteuid() == 0, "needs root: the server must start as root "
                                "to drop to the mail user, and root ignores file modes")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def mail_user():
    """nobody/nogroup (Debian) or nobody's primary group: an account that owns nothing."""
    nobody = pwd.getpwnam("nobody")
    try:
        group = grp.getgrnam("nogroup")
    except KeyError:
        group = grp.getgrgid(nobody.pw_gid)
    return nobody.pw_uid, group.gr_gid, "nobody", group.gr_name


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def serve_as_mail_user(server):
    """Makes `server` start as root and drop to nobody, owning its whole directory."""
    uid, gid, user, group = mail_user()
    chown_tree(server.dir, uid, gid)
    return uid, gid


def login(server, user="alice", password="secret"):
    c = poplib.POP3("127.0.0.1", server.port, timeout=10)
    c.user(user)
    c.pass_(password)
    return c


def log_lines(server, *needles):
    return [l for l in server.log_text().splitlines() if all(n in l for n in needles)]


class PrivilegeTest(unittest.TestCase):
    @ROOT_ONLY
    def test_serving_process_has_no_root_identity_in_any_thread(self):
        server = PoplarServer(top_extra='user = "nobody"\ngroup = "%s"' % mail_user()[3])
        self.addCleanup(server.cleanup)
        uid, gid = serve_as_mail_user(server)
        server.start()  # returns once the port file is written: after the drop
        pid = server.proc.pid
        statuses = [f"/proc/{pid}/status"] + sorted(glob.glob(f"/proc/{pid}/task/*/status"))
        self.assertGreater(len(statuses), 1, "no task entries under /proc")
        for path in statuses:
            with open(path) as f:
                fields = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            ids = {key: fields[key].split() for key in ("Uid", "Gid", "Groups")}
            with self.subTest(status=path):
                # Real, effective, saved and file-system ids: all the mail user's, none root's.
                self.assertEqual(ids["Uid"], [str(uid)] * 4, path)
                self.assertEqual(ids["Gid"], [str(gid)] * 4, path)
                self.assertEqual(ids["Groups"], [str(gid)], path)
                self.assertNotIn("0", ids["Uid"] + ids["Gid"] + ids["Groups"])
        self.assertTrue(log_lines(server, "privileges-dropped", "user=nobody"))
        c = login(server)
        self.assertEqual(c.stat()[0], 1)
        self.assertEqual(c.retr(1)[2], wire_size(MSG_CRLF))
        c.quit()


class BadFilesTest(unittest.TestCase):
    @ROOT_ONLY
    def test_maildir_owned_by_another_user_is_a_clear_error(self):
        server = PoplarServer(users={"alice": "{PLAIN}secret", "bob": "{PLAIN}bobpw"},
                              mailboxes={"alice": [MSG_CRLF], "bob": [MSG_LF_DOTS]},
                              top_extra='user = "nobody"\ngroup = "%s"' % mail_user()[3])
        self.addCleanup(server.cleanup)
        serve_as_mail_user(server)
        # bob's Maildir belongs to someone else (a uid no account uses) and is closed to others.
        stranger = 4000000 + os.getpid() % 1000
        chown_tree(server.maildir("bob"), stranger, stranger)
        os.chmod(server.maildir("bob"), 0o700)
        server.start()
        for attempt in range(2):
            c = RawClient(server.port)
            reply = c.login("bob", "bobpw")
            # docs/protocol-notes.md, src/pop3/error_mapping.h: EACCES is kPermission, which
            # opening a maildrop answers with [SYS/PERM] (asking again will not help).
            self.assertEqual(reply,
                             b"-ERR [SYS/PERM] Mailbox unavailable; contact your administrator.")
            # RFC 1939 §4: still in AUTHORIZATION, the connection stays usable.
            self.assertTrue(c.cmd("NOOP").startswith(b"-ERR"))
            self.assertEqual(c.cmd("QUIT")[:3], b"+OK")
            c.close()
        failures = log_lines(server, "login-failed", "user=bob")
        self.assertEqual(len(failures), 2, server.log_text())  # one line per attempt
        self.assertIn("Permission denied", failures[0])
        self.assertIn(server.maildir("bob"), failures[0])
        self.assertIsNone(server.proc.poll(), "the server must not exit")
        c = login(server)  # alice is still served
        self.assertEqual(c.stat()[0], 1)
        c.quit()
        self.assertNotIn("bobpw", server.log_text())

    def test_passwd_file_with_broken_lines_serves_the_good_users(self):
        canary = "Pw-Canary-" + secrets.token_hex(8)
        server = PoplarServer(users={}, mailboxes={"alice": [MSG_CRLF], "bob": [MSG_LF_DOTS]})
        self.addCleanup(server.cleanup)
        home = lambda name: os.path.join(server.dir, "home", name)
        for name in ("alice", "bob"):
            os.makedirs(home(name), exist_ok=True)
        ids = f"{os.getuid()}:{os.getgid()}"
        # The broken lines' password fields carry the canary, so the log can be searched for it.
        lines = [
            b"# users of the test",                                               # 1
            f"alice:{{PLAIN}}secret:{ids}::{home('alice')}::".encode(),           # 2
            f"tooshort-{canary}".encode(),                                        # 3: no ':'
            f"carol:{{PLAIN}}{canary}-uid:notanumber:{os.getgid()}::/tmp::".encode(),  # 4
            b"\x00\xff\xfe" + f"junk:{{PLAIN}}{canary}-nul:1:1::/tmp::".encode(),  # 5: NUL
            b"\xff\xfe\x80binary" + canary.encode() + b"\x01\x02",                # 6: no ':'
            (b"A" * 200_000) + canary.encode(),                                   # 7: long, no ':'
            f"dave:{{PLAIN}}{canary}-{'x' * 100_000}:{ids}::/tmp::".encode(),     # 8: long, valid
            f"erin:{{NOSUCH}}{canary}-scheme:{ids}::/tmp::".encode(),             # 9: bad scheme
            f"bob:{{PLAIN}}bobpw:{ids}::{home('bob')}::".encode(),                # 10
        ]
        with open(os.path.join(server.dir, "users"), "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        server.start()
        for _ in range(3):  # several lookups, one load: each broken line logged once
            for user, password, count in (("alice", "secret", 1), ("bob", "bobpw", 1)):
                c = login(server, user, password)
                self.assertEqual(c.stat()[0], count)
                c.quit()
        c = RawClient(server.port)
        reply = c.login("erin", f"{canary}-scheme")
        self.assertEqual(reply, b"-ERR [AUTH] Authentication failed.")
        c.close()

        log = server.log_text()
        self.assertNotIn(canary, log)
        self.assertNotIn("A" * 64, log)
        skipped = log_lines(server, "passwd-file-line-skipped")
        for number, why in ((3, "no ':' after the user name"), (4, "uid is not a number"),
                            (5, "NUL byte in line"), (6, "no ':' after the user name"),
                            (7, "no ':' after the user name")):
            mine = [l for l in skipped if f"users:{number}: " in l]
            self.assertEqual(len(mine), 1, (number, skipped))
            self.assertIn(why, mine[0])
        self.assertEqual(len(skipped), 5, skipped)
        # The unknown scheme is reported once at load with its line, never with the value...
        unknown = log_lines(server, "passwd-file-unknown-scheme")
        self.assertEqual(len(unknown), 1, log)
        self.assertIn("line=9 ", unknown[0] + " ")
        self.assertIn("user=erin", unknown[0])
        self.assertNotIn("NOSUCH", unknown[0])
        # ...and again when erin logs in: the reason names the scheme, not the value.
        erin = log_lines(server, "auth-failed", "user=erin")
        self.assertEqual(len(erin), 1, log)
        self.assertIn("NOSUCH", erin[0])
        self.assertIsNone(server.proc.poll())

    def index_test(self, damage, reason):
        messages = [MSG_CRLF, MSG_LF_DOTS] + [b"Subject: m%d\n\nbody %d\n" % (i, i)
                                              for i in range(50)]
        server = PoplarServer(mailboxes={"alice": messages})
        self.addCleanup(server.cleanup)
        server.start()
        c = login(server)  # writes the index
        c.quit()
        index = os.path.join(server.maildir("alice"), "poplar-index")
        with open(index, "rb") as f:
            data = f.read()
        with open(index, "wb") as f:
            f.write(damage(data))
        before = len(log_lines(server, "maildir-index"))
        c = login(server)
        count, total = c.stat()
        self.assertEqual(count, len(messages))
        want = sorted(wire_size(m) for m in messages)
        _, listing, _ = c.list()
        sizes = [int(l.split()[1]) for l in listing]
        self.assertEqual(sorted(sizes), want)
        self.assertEqual(total, sum(want))
        for n, size in enumerate(sizes, start=1):
            self.assertEqual(c.retr(n)[2], size, "LIST size must equal RETR octets")
        c.quit()
        lines = log_lines(server, "maildir-index")[before:]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("maildir-index-ignored", lines[0])
        self.assertIn(reason, lines[0])
        self.assertIn(server.maildir("alice"), lines[0])
        # The next login rewrote it: a third one reads it without a word.
        c = login(server)
        c.quit()
        self.assertEqual(len(log_lines(server, "maildir-index")[before:]), 1)

    def test_corrupt_index_is_rebuilt_with_right_sizes(self):
        def flip(data):
            middle = len(data) // 2
            return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]
        self.index_test(flip, "checksum mismatch")

    def test_truncated_index_is_rebuilt_with_right_sizes(self):
        self.index_test(lambda data: data[:len(data) * 2 // 3], "index file:")


class FileModesTest(unittest.TestCase):
    def test_everything_the_server_writes_is_private_to_the_mail_user(self):
        # umask 0: the modes come from the code, not from a careful administrator's umask.
        server = PoplarServer(users={"alice": "{PLAIN}secret", "newbie": "{PLAIN}newpw"},
                              config_extra="[pop4]\nenabled = true\n")
        self.addCleanup(server.cleanup)
        server.start(preexec=lambda: os.umask(0))
        c = RawClient(server.port)
        self.assertTrue(c.login().startswith(b"+OK"))
        self.assertTrue(c.cmd("CFLD Work/Archive").startswith(b"+OK"))
        self.assertEqual(c.cmd("STOR Work/Archive (\\Seen $Junk)"), b"+ send message")
        c.send(b"Subject: stored\r\n\r\nbody\r\n.\r\n")
        self.assertTrue(c.line().startswith(b"+OK"))
        self.assertTrue(c.cmd("COPY 1 Work").startswith(b"+OK"))
        self.assertTrue(c.cmd("FLAG 1 +$Later").startswith(b"+OK"))
        self.assertEqual(c.cmd("QUIT")[:3], b"+OK")
        c.close()
        c = RawClient(server.port)  # a first login creates the Maildir
        self.assertTrue(c.login("newbie", "newpw").startswith(b"+OK"))
        self.assertEqual(c.cmd("QUIT")[:3], b"+OK")
        c.close()

        # Written by the test, not the server; COPY links them, so their copies share the inode
        # and its mode (docs/formats/maildir.md "COPY").
        delivered = {os.stat(p).st_ino for p in server.message_files("alice")}
        checked = collections.Counter()
        for name in ("alice", "newbie"):
            root = server.maildir(name)
            for dirpath, dirnames, filenames in os.walk(root):
                for d in dirnames:
                    path = os.path.join(dirpath, d)
                    if name == "alice" and d in ("cur", "new", "tmp") and dirpath == root:
                        continue  # made by the test's delivery
                    self.assertEqual(oct(os.stat(path).st_mode & 0o7777), "0o700", path)
                    checked["directory"] += 1
                for f in filenames:
                    path = os.path.join(dirpath, f)
                    if os.stat(path).st_ino in delivered:
                        checked["linked copy"] += 1
                        continue
                    self.assertEqual(oct(os.stat(path).st_mode & 0o7777), "0o600", path)
                    checked[f if not f[0].isdigit() else "message"] += 1
        for kind in ("poplar-index", "poplar.lock", "maildirfolder", "dovecot-keywords",
                     "message", "directory", "linked copy"):
            self.assertIn(kind, checked, checked)

    def test_poplar_fetch_writes_private_state_maildir_and_mbox(self):
        server = PoplarServer(mailboxes={"alice": [MSG_CRLF, MSG_LF_DOTS]})
        self.addCleanup(server.cleanup)
        server.start()
        out = os.path.join(server.dir, "fetched")
        os.mkdir(out)
        with open(os.path.join(out, "password"), "w") as f:
            f.write("secret\n")
        for target in ("maildir:" + os.path.join(out, "Mail"),
                       "mbox:" + os.path.join(out, "mbox")):
            run = subprocess.run(
                [POPLAR_BIN, "fetch", f"pop://alice@127.0.0.1:{server.port}", "--to", target,
                 "--insecure-plaintext", "--password-file", os.path.join(out, "password"),
                 "--state", os.path.join(out, "state", target[:4], "alice"), "--timeout", "30"],
                capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0))
            self.assertEqual(run.returncode, 0, run.stderr)
        self.assertNotIn("secret", run.stdout + run.stderr)
        modes = {}
        for dirpath, dirnames, filenames in os.walk(out):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                modes[os.path.relpath(path, out)] = os.stat(path).st_mode & 0o7777
        del modes["password"]  # the test's own
        self.assertEqual({p: oct(m) for p, m in modes.items() if m not in (0o600, 0o700)}, {})
        for path in ("state", "state/mail", "state/mail/alice", "state/mail/alice.lock",
                     "Mail", "Mail/new", "mbox"):
            self.assertIn(path, modes, sorted(modes))
        self.assertEqual(len(os.listdir(os.path.join(out, "Mail", "new"))), 2)


class SecretsTest(unittest.TestCase):
    """Every way the server offers to log in, with passwords nobody would write by accident; the
    whole log (at debug level) and every byte the server sent must hold none of them."""

    def setUp(self):
        token = secrets.token_hex(6)
        self.password = "S3cr3t-Canary-" + token
        self.wrong = "Wr0ng-Canary-" + token
        self.server = PoplarServer(
            users={"alice": "{PLAIN}" + self.password},
            auth_extra='mechanisms = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", '
                       '"SCRAM-SHA-256"]\napop = true\nmax_failures = 20')
        self.addCleanup(self.server.cleanup)
        self.server.start(extra_args=("-v",))
        self.replies = b""
        self.payloads = []  # every AUTH/APOP/PASS argument sent, to be searched for
        self.outcomes = []

    # -- a client that records everything --------------------------------------------------
    def connect(self):
        c = RawClient(self.server.port)
        greeting = c.line()
        self.replies += greeting + b"\r\n"
        self.assertTrue(greeting.startswith(b"+OK"))
        return c, greeting

    def send(self, c, line, secret=True):
        if secret and len(line) >= 8:
            self.payloads.append(line)
        reply = c.cmd(line)
        self.replies += reply + b"\r\n"
        return reply

    def finish(self, c, what, reply):
        self.outcomes.append((what, reply[:4]))
        try:
            self.replies += c.cmd("QUIT") + b"\r\n"
        except (EOFError, OSError):
            pass
        c.close()
        return reply

    def user_pass(self, password):
        c, _ = self.connect()
        self.send(c, "USER alice", secret=False)
        return self.finish(c, "USER/PASS", self.send(c, "PASS " + password))

    def apop(self, password):
        c, greeting = self.connect()
        timestamp = re.search(rb"<[^>]*>", greeting).group(0)
        digest = hashlib.md5(timestamp + password.encode()).hexdigest()
        self.payloads.append(digest)
        return self.finish(c, "APOP", self.send(c, f"APOP alice {digest}"))

    def plain(self, password, initial):
        c, _ = self.connect()
        payload = b64(b"\0alice\0" + password.encode())
        if initial:
            return self.finish(c, "PLAIN-IR", self.send(c, "AUTH PLAIN " + payload))
        self.assertEqual(self.send(c, "AUTH PLAIN", secret=False), b"+ ")
        return self.finish(c, "PLAIN", self.send(c, payload))

    def login_mech(self, password, initial):
        c, _ = self.connect()
        if initial:
            reply = self.send(c, "AUTH LOGIN " + b64(b"alice"), secret=False)
        else:
            self.assertTrue(self.send(c, "AUTH LOGIN", secret=False).startswith(b"+ "))
            reply = self.send(c, b64(b"alice"), secret=False)
        self.assertTrue(reply.startswith(b"+ "), reply)
        return self.finish(c, "LOGIN", self.send(c, b64(password.encode())))

    def cram_md5(self, password):
        c, _ = self.connect()
        reply = self.send(c, "AUTH CRAM-MD5", secret=False)
        self.assertTrue(reply.startswith(b"+ "), reply)
        challenge = base64.b64decode(reply[2:])
        digest = hmac.new(password.encode(), challenge, "md5").hexdigest()
        self.payloads.append(digest)
        return self.finish(c, "CRAM-MD5", self.send(c, b64(f"alice {digest}".encode())))

    def scram(self, mechanism, password, initial):
        """RFC 5802 client side; with initial=False the client-first goes as a continuation."""
        hash_name = "sha256" if mechanism == "SCRAM-SHA-256" else "sha1"
        c, _ = self.connect()
        nonce = b64(os.urandom(18))
        bare = f"n=alice,r={nonce}"
        first = b64(("n,," + bare).encode())
        if initial:
            reply = self.send(c, f"AUTH {mechanism} {first}")
        else:
            self.assertEqual(self.send(c, f"AUTH {mechanism}", secret=False), b"+ ")
            reply = self.send(c, first)
        self.assertTrue(reply.startswith(b"+ "), reply)
        server_first = base64.b64decode(reply[2:]).decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hash_name).digest()
        without_proof = f"c={b64(b'n,,')},r={attrs['r']}"
        auth_message = f"{bare},{server_first},{without_proof}".encode()
        signature = hmac.new(hashlib.new(hash_name, client_key).digest(), auth_message,
                             hash_name).digest()
        proof = b64(bytes(a ^ b for a, b in zip(client_key, signature)))
        self.payloads.append(proof)
        self.payloads.append(b64(salted))
        reply = self.send(c, b64(f"{without_proof},p={proof}".encode()))
        if reply.startswith(b"+ "):  # the server signature as additional data (RFC 5034 §4)
            reply = self.send(c, "", secret=False)
        return self.finish(c, mechanism, reply)

    def canceled(self, mechanism):
        c, _ = self.connect()
        reply = self.send(c, f"AUTH {mechanism}", secret=False)
        self.assertTrue(reply.startswith(b"+ "), reply)
        if mechanism == "LOGIN":
            self.assertTrue(self.send(c, b64(self.password.encode())).startswith(b"+ "))
        reply = self.send(c, "*", secret=False)
        self.assertTrue(reply.startswith(b"-ERR"), reply)
        return self.finish(c, "canceled " + mechanism, reply)

    def malformed(self, initial):
        c, _ = self.connect()
        junk = f"!!{self.password}!!not=base64"
        if initial:
            reply = self.send(c, "AUTH PLAIN " + junk)
        else:
            self.assertEqual(self.send(c, "AUTH PLAIN", secret=False), b"+ ")
            reply = self.send(c, junk)
        self.assertTrue(reply.startswith(b"-ERR"), reply)
        return self.finish(c, "malformed", reply)

    # -- what must not appear ----------------------------------------------------------------
    def forbidden(self):
        """The secrets in clear, hex, and base64 at each of the three alignments inside a longer
        base64 text, plus every payload the client sent."""
        out = set()
        for text in (self.password, self.wrong):
            raw = text.encode()
            out |= {text, raw.hex(), text.lower(), text.upper()}
            for offset in range(3):
                encoded = b64(b"\0" * offset + raw)
                out.add(encoded[4 if offset else 0:-4])  # the groups made only of the secret
        out |= {p for p in self.payloads if p}
        return out

    def test_no_password_or_auth_payload_in_log_or_replies(self):
        for password, ok in ((self.password, True), (self.wrong, False)):
            want = b"+OK" if ok else b"-ERR"
            self.assertTrue(self.user_pass(password).startswith(want))
            self.assertTrue(self.apop(password).startswith(want))
            for initial in (True, False):
                self.assertTrue(self.plain(password, initial).startswith(want))
                self.assertTrue(self.login_mech(password, initial).startswith(want))
                for mechanism in ("SCRAM-SHA-1", "SCRAM-SHA-256"):
                    self.assertTrue(self.scram(mechanism, password, initial).startswith(want),
                                    (mechanism, initial))
            self.assertTrue(self.cram_md5(password).startswith(want))
        for mechanism in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"):
            self.canceled(mechanism)
        self.malformed(True)
        self.malformed(False)
        # The right password for a user that does not exist.
        c, _ = self.connect()
        self.send(c, "USER mallory", secret=False)
        self.assertTrue(self.finish(c, "unknown user",
                                    self.send(c, "PASS " + self.password)).startswith(b"-ERR"))
        self.server.stop()  # flushes everything to the log

        log = self.server.log_text()
        self.assertIn("auth-failed", log)
        self.assertIn("login ", log)
        for secret in sorted(self.forbidden()):
            with self.subTest(secret=secret[:40]):
                self.assertNotIn(secret, log, "in the server log")
                self.assertNotIn(secret.encode(), self.replies, "in a server reply")
        self.assertGreaterEqual(len(self.payloads), 20, self.outcomes)


if __name__ == "__main__":
    unittest.main()
