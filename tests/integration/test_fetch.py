"""`poplar fetch` against real servers on loopback: `poplar serve` (STLS, implicit TLS, plain)
and a private Dovecot (tests/integration/dovecot.py). Every fetched message is compared byte for
byte with the source (local stores keep LF line ends, so the expected file is the source with
LF line ends and a final newline), a second run must fetch nothing, and deletions must reach
the server only when the policy says so. Exit codes follow sysexits (docs/fetch.md)."""

import os
import random
import shutil
import subprocess
import tempfile
import time
import unittest

from dovecot import DovecotServer
from harness import (MSG_BIG, MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, POPLAR_BIN,
                     unstuffed_wire)
from test_tls import TlsServer

MESSAGES = [MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE]


def stored_form(message: bytes) -> bytes:
    """What a local store holds after a fetch: the wire form with LF line ends."""
    return unstuffed_wire(message).replace(b"\r\n", b"\n")


class FetchCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poplar-fetch-")
        self.password_file = os.path.join(self.dir, "password")
        with open(self.password_file, "w") as f:
            f.write("secret\n")
        self.runs = 0

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def fetch(self, url, target, *extra, state="state", password_file=None):
        cmd = [POPLAR_BIN, "fetch", url, "--to", target, "--password-file",
               password_file or self.password_file, "--state", os.path.join(self.dir, state),
               "--timeout", "30", *extra]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def maildir_contents(self, name="Mail"):
        new = os.path.join(self.dir, name, "new")
        out = []
        for n in (os.listdir(new) if os.path.isdir(new) else []):
            with open(os.path.join(new, n), "rb") as f:
                out.append(f.read())
        return sorted(out)

    def assert_ok(self, result, new):
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(": %d new," % new, result.stdout)


class FetchFromPoplarTest(FetchCase):
    @classmethod
    def setUpClass(cls):
        cls.server = TlsServer(mailboxes={"alice": MESSAGES + [MSG_BIG]},
                               auth_extra=('apop = true\nplaintext_without_tls = true\n'
                                           'mechanisms = ["PLAIN", "LOGIN", "CRAM-MD5", '
                                           '"SCRAM-SHA-1", "SCRAM-SHA-256"]')).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def url(self, scheme="pop", port=None, auth=""):
        return "%s://alice%s@127.0.0.1:%d" % (scheme, auth, port or self.server.stls_port)

    def test_stls_into_a_maildir_byte_for_byte_then_nothing_new(self):
        target = "maildir:" + os.path.join(self.dir, "Mail")
        first = self.fetch(self.url(), target, "--ca-file", self.server.cert)
        self.assert_ok(first, 4)
        self.assertEqual(self.maildir_contents(),
                         sorted(stored_form(m) for m in MESSAGES + [MSG_BIG]))
        again = self.fetch(self.url(), target, "--ca-file", self.server.cert)
        self.assert_ok(again, 0)
        self.assertEqual(len(self.maildir_contents()), 4)
        self.assertEqual(len(self.server.message_files("alice")), 4)  # --keep is the default

    def test_implicit_tls_with_each_mechanism(self):
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
                     "SCRAM-SHA-256-PLUS", "+APOP"):
            with self.subTest(mech=mech):
                box = "Mail-" + mech.strip("+")
                result = self.fetch(self.url("pops", self.server.tls_port, ";AUTH=" + mech),
                                    "maildir:" + os.path.join(self.dir, box), "--ca-file",
                                    self.server.cert, state="state-" + box)
                self.assert_ok(result, 4)
                self.assertEqual(len(self.maildir_contents(box)), 4)
        log = self.server.log_text()
        for method in ("method=PLAIN", "method=LOGIN", "method=CRAM-MD5", "method=SCRAM-SHA-1",
                       "method=SCRAM-SHA-256 ", "method=SCRAM-SHA-256-PLUS", "method=APOP"):
            self.assertIn(method, log)

    def test_pinned_fingerprint_instead_of_a_ca(self):
        result = self.fetch(self.url("pops", self.server.tls_port),
                            "maildir:" + os.path.join(self.dir, "Mail"),
                            "--fingerprint", self.server.fingerprint())
        self.assert_ok(result, 4)
        right = self.server.fingerprint()
        # A different first octet (a fixed "00" equals the right one for 1 certificate in 256).
        wrong = ("01" if right[:2].lower() == "00" else "00") + right[2:]
        result = self.fetch(self.url("pops", self.server.tls_port),
                            "maildir:" + os.path.join(self.dir, "Mail"), "--fingerprint", wrong,
                            state="other")
        self.assertEqual(result.returncode, 76, result.stderr)
        self.assertIn("not the pinned", result.stderr)

    def test_untrusted_certificate_fails_without_falling_back(self):
        result = self.fetch(self.url(), "maildir:" + os.path.join(self.dir, "Mail"))
        self.assertEqual(result.returncode, 76, result.stderr)
        self.assertIn("not trusted", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "Mail", "new")) and
                         os.listdir(os.path.join(self.dir, "Mail", "new")))

    def test_plaintext_is_refused_unless_allowed(self):
        plain = self.url(port=self.server.port)  # the listener without STLS
        target = "maildir:" + os.path.join(self.dir, "Mail")
        refused = self.fetch(plain, target)
        self.assertEqual(refused.returncode, 78, refused.stderr)
        allowed = self.fetch(plain, target, "--insecure-plaintext")
        self.assert_ok(allowed, 4)

    def test_wrong_password_is_ex_noperm(self):
        bad = os.path.join(self.dir, "bad")
        with open(bad, "w") as f:
            f.write("wrong\n")
        result = self.fetch(self.url(), "maildir:" + os.path.join(self.dir, "Mail"), "--ca-file",
                            self.server.cert, password_file=bad)
        self.assertEqual(result.returncode, 77, result.stderr)
        self.assertNotIn("wrong", result.stderr + result.stdout)

    def test_mbox_and_mda_targets(self):
        mbox = os.path.join(self.dir, "inbox.mbox")
        result = self.fetch(self.url(), "mbox:" + mbox, "--ca-file", self.server.cert)
        self.assert_ok(result, 4)
        with open(mbox, "rb") as f:
            text = f.read()
        self.assertEqual(text.count(b"\nFrom ") + text.startswith(b"From "), 4)
        self.assertIn(b"\n>From ", text) if b"\nFrom " in MSG_BIG else None
        out = os.path.join(self.dir, "mda-out")
        result = self.fetch(self.url(), "mda:cat >> '%s'" % out, "--ca-file", self.server.cert,
                            state="state-mda")
        self.assert_ok(result, 4)
        with open(out, "rb") as f:
            self.assertEqual(len(f.read()), sum(len(stored_form(m)) for m in MESSAGES + [MSG_BIG]))


class FetchPolicyTest(FetchCase):
    """Deletions: only after delivery, and only as the policy says."""

    def setUp(self):
        super().setUp()
        self.server = TlsServer(mailboxes={"alice": MESSAGES}).start()

    def tearDown(self):
        self.server.cleanup()
        super().tearDown()

    def url(self):
        return "pop://alice@127.0.0.1:%d" % self.server.stls_port

    def test_delete_removes_what_was_delivered(self):
        result = self.fetch(self.url(), "maildir:" + os.path.join(self.dir, "Mail"), "--delete",
                            "--ca-file", self.server.cert)
        self.assert_ok(result, 3)
        self.assertIn("3 deleted", result.stdout)
        self.assertEqual(self.server.message_files("alice"), [])
        self.assertEqual(self.maildir_contents(), sorted(stored_form(m) for m in MESSAGES))

    def test_keep_days_deletes_exactly_the_old_ones(self):
        target = "maildir:" + os.path.join(self.dir, "Mail")
        self.assert_ok(self.fetch(self.url(), target, "--ca-file", self.server.cert), 3)
        # Age the first two records by ten days (the state file is the clock's witness).
        path = os.path.join(self.dir, "state")
        with open(path) as f:
            lines = f.read().splitlines()
        aged = [lines[0]]
        for i, line in enumerate(lines[1:]):
            when, uidl = line.split(" ", 1)
            aged.append("%d %s" % (int(when) - (10 * 86400 if i < 2 else 0), uidl))
        with open(path, "w") as f:
            f.write("\n".join(aged) + "\n")
        result = self.fetch(self.url(), target, "--keep-days", "7", "--ca-file", self.server.cert)
        self.assert_ok(result, 0)
        self.assertIn("2 deleted", result.stdout)
        self.assertEqual(len(self.server.message_files("alice")), 1)
        # The deleted UIDLs are forgotten, the kept one is still known.
        with open(path) as f:
            self.assertEqual(len(f.read().splitlines()), 2)

    def test_max_size_and_limit_skip(self):
        result = self.fetch(self.url(), "maildir:" + os.path.join(self.dir, "Mail"), "--limit",
                            "1", "--ca-file", self.server.cert)
        self.assert_ok(result, 1)
        self.assertIn("2 skipped", result.stdout)
        result = self.fetch(self.url(), "maildir:" + os.path.join(self.dir, "Mail"),
                            "--max-size", "60", "--ca-file", self.server.cert)
        self.assert_ok(result, 1)


class FetchFromDovecotTest(FetchCase):
    @classmethod
    def setUpClass(cls):
        cls.server = DovecotServer(users={"alice": "{PLAIN}secret"},
                                   mailboxes={"alice": MESSAGES + [MSG_BIG]}).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_stls_and_implicit_tls_with_each_mechanism(self):
        cases = [("pop", self.server.port, ""), ("pops", self.server.tls_port, ";AUTH=PLAIN"),
                 ("pops", self.server.tls_port, ";AUTH=LOGIN"),
                 ("pop", self.server.port, ";AUTH=CRAM-MD5"),
                 ("pops", self.server.tls_port, ";AUTH=SCRAM-SHA-1"),
                 ("pop", self.server.port, ";AUTH=SCRAM-SHA-256")]
        for scheme, port, auth in cases:
            with self.subTest(scheme=scheme, auth=auth):
                box = "Mail-%s-%s" % (scheme, auth.replace(";AUTH=", "") or "any")
                url = "%s://alice%s@127.0.0.1:%d" % (scheme, auth, port)
                result = self.fetch(url, "maildir:" + os.path.join(self.dir, box), "--ca-file",
                                    self.server.cert, state="state-" + box)
                self.assert_ok(result, 4)
                self.assertEqual(self.maildir_contents(box),
                                 sorted(stored_form(m) for m in MESSAGES + [MSG_BIG]))
                again = self.fetch(url, "maildir:" + os.path.join(self.dir, box), "--ca-file",
                                   self.server.cert, state="state-" + box)
                self.assert_ok(again, 0)


class FetchDeleteFromDovecotTest(FetchCase):
    def test_delete_empties_the_dovecot_maildrop(self):
        server = DovecotServer(users={"alice": "{PLAIN}secret"},
                               mailboxes={"alice": MESSAGES}).start()
        try:
            url = "pops://alice@127.0.0.1:%d" % server.tls_port
            result = self.fetch(url, "mbox:" + os.path.join(self.dir, "mbox"), "--delete",
                                "--ca-file", server.cert)
            self.assert_ok(result, 3)
            self.assertEqual(server.message_contents("alice"), [])
        finally:
            server.cleanup()


class FetchCrashTest(FetchCase):
    """kill -9 at random moments of a --delete run, again and again: every message must end up
    delivered at least once, and the server may only lose messages that were delivered."""

    def test_killed_at_random_points_never_loses_a_message(self):
        rng = random.Random(20261127)
        messages = [(b"Subject: crash %d\n\n" % i) + (b"x" * 70 + b"\n") * rng.randint(10, 3000)
                    for i in range(40)]
        server = TlsServer(mailboxes={"alice": messages}).start()
        try:
            url = "pop://alice@127.0.0.1:%d" % server.stls_port
            target = "maildir:" + os.path.join(self.dir, "Mail")
            cmd = [POPLAR_BIN, "fetch", url, "--to", target, "--delete", "--password-file",
                   self.password_file, "--state", os.path.join(self.dir, "state"), "--ca-file",
                   server.cert, "--timeout", "30"]
            kills = 0
            for attempt in range(40):
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                # The first 30 runs are killed at a random moment (if still running); the rest
                # run to the end, so the test ends however slow the machine is.
                time.sleep(rng.uniform(0.005, 0.06))
                if attempt < 30 and proc.poll() is None:
                    proc.kill()
                    kills += 1
                out, err = proc.communicate(timeout=60)
                if proc.returncode == 0 and b" 0 new," in out and \
                        not server.message_files("alice"):
                    break
                # The server must never hold fewer messages than were not yet delivered.
                delivered = set(self.maildir_contents())
                on_server = set()
                for path in server.message_files("alice"):
                    with open(path, "rb") as f:
                        on_server.add(f.read())
                for m in messages:
                    self.assertTrue(stored_form(m) in delivered or m in on_server,
                                    "a message was lost after %d kills" % kills)
            self.assertGreater(kills, 0, "no run was interrupted: the test proved nothing")
            print("fetch crash test: %d runs killed" % kills)
            self.assertEqual(server.message_files("alice"), [])
            self.assertEqual(set(self.maildir_contents()), {stored_form(m) for m in messages})
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
