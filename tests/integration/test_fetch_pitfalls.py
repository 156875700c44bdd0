"""`poplar fetch` against servers that break the rules (SPEC §16/§17, issue 5), end to end.

Each test starts tests/integration/fake_pop3.py with one misbehaviour, runs the real
`poplar fetch` (plaintext with --insecure-plaintext, the password in POPLAR_PASSWORD, its state
in a temporary directory, a Maildir target), and checks what a user would: the exit code
(sysexits), every delivered message byte for byte, nothing left half-written in the Maildir's
tmp/, what the server was asked to delete and did delete, that a second run fetches nothing
new, and that the server's words reach stderr sanitised. Plain unittest, discovered by run.py.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from fake_pop3 import FakePop3
from harness import POPLAR_BIN

# Messages as the fake server stores them. TWO has the body lines "." and "..x" (R1939-3-g):
# the server stuffs them on the wire, and the client must un-stuff them.
ONE = b"From: carol@example.org\r\nSubject: one\r\n\r\nHello.\r\n"
TWO = b"From: dave@example.org\r\nSubject: dots\r\n\r\n.\r\n..x\r\n.hidden\r\nend\r\n"
THREE = b"Subject: three\r\n\r\nthird message\r\n" + b"a long line " * 500 + b"\r\n"
MESSAGES = [ONE, TWO, THREE]

EX_OK, EX_UNAVAILABLE, EX_TEMPFAIL, EX_PROTOCOL, EX_NOPERM, EX_CONFIG = 0, 69, 75, 76, 77, 78


def stored(message: bytes) -> bytes:
    """What the Maildir holds: the message with LF line ends (local mail convention)."""
    return message.replace(b"\r\n", b"\n")


class PitfallCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poplar-pitfalls-")
        self.maildir = os.path.join(self.dir, "Mail")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, messages=MESSAGES, **personality):
        server = FakePop3(messages, **personality).start()
        self.addCleanup(server.stop)
        return server

    def fetch(self, server, *extra, auth="", password="secret"):
        env = dict(os.environ, POPLAR_PASSWORD=password)
        cmd = [POPLAR_BIN, "fetch", "pop://alice%s@127.0.0.1:%d" % (auth, server.port), "--to",
               "maildir:" + self.maildir, "--insecure-plaintext", "--state",
               self.state_path(server), "--timeout", "10", *extra]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)

    def state_path(self, server):
        # The state file belongs to one account URL, and every fake server has its own port.
        return os.path.join(self.dir, "state-%d" % server.port)

    def delivered(self):
        new = os.path.join(self.maildir, "new")
        out = []
        for name in (os.listdir(new) if os.path.isdir(new) else []):
            with open(os.path.join(new, name), "rb") as f:
                out.append(f.read())
        return sorted(out)

    def assert_nothing_partial(self):
        tmp = os.path.join(self.maildir, "tmp")
        self.assertEqual(os.listdir(tmp) if os.path.isdir(tmp) else [], [])

    def assert_exit(self, result, code, new=None):
        self.assertEqual(result.returncode, code,
                         "stdout: %s\nstderr: %s" % (result.stdout, result.stderr))
        if new is not None:
            self.assertIn(": %d new," % new, result.stdout)

    def assert_fetched_all(self, result, server, messages=MESSAGES):
        self.assert_exit(result, EX_OK, len(messages))
        self.assertEqual(self.delivered(), sorted(stored(m) for m in messages))
        self.assert_nothing_partial()
        self.assertEqual(server.errors, [])

    def assert_second_run_fetches_nothing(self, server, *extra):
        again = self.fetch(server, *extra)
        self.assert_exit(again, EX_OK, 0)
        return again


class RuleBreakingServersTest(PitfallCase):
    def test_no_capa_uses_user_pass_and_probes_uidl(self):
        # R2449-5-f, R2449-7-a: -ERR to CAPA; nothing is required of the server.
        server = self.serve(no_capa=True)
        self.assert_fetched_all(self.fetch(server), server)
        names = server.command_names()
        self.assertEqual(names[:3], ["CAPA", "USER", "PASS"])
        self.assertIn("UIDL", names)
        self.assert_second_run_fetches_nothing(server)
        self.assertEqual(len(server.remaining()), 3)  # --keep is the default

    def test_capa_without_uidl_still_asks_for_uidl(self):
        # PR-C-10 / jakartaee#50: a CAPA that does not list UIDL does not mean there is none.
        server = self.serve(capa_without_uidl=True)
        self.assert_fetched_all(self.fetch(server), server)
        self.assertIn("UIDL", server.command_names())
        self.assert_second_run_fetches_nothing(server)

    def test_no_uidl_refuses_keep_and_keep_days_but_delete_works(self):
        # PR-C-15: without UIDL a kept message cannot be recognised next time.
        server = self.serve(uidl_err=True)
        for policy in ([], ["--keep"], ["--keep-days", "3"]):
            with self.subTest(policy=policy):
                result = self.fetch(server, *policy)
                self.assert_exit(result, EX_CONFIG)
                self.assertIn("UIDL", result.stderr)
                self.assertIn("--delete", result.stderr)
                self.assertEqual(self.delivered(), [])
                self.assertNotIn("RETR", server.command_names())
                self.assertNotIn("DELE", server.command_names())
        result = self.fetch(server, "--delete")
        self.assert_fetched_all(result, server)
        self.assertIn(": 3 new, 3 deleted,", result.stdout)
        self.assertEqual(server.remaining(), [])
        self.assertEqual(sorted(server.deleted), ["uid-1", "uid-2", "uid-3"])
        self.assert_second_run_fetches_nothing(server, "--delete")

    def test_extra_spaces_in_uidl_and_list_lines(self):
        # PR-C-3, thunderbird-android#323: three spaces between the fields.
        server = self.serve(extra_spaces=True)
        self.assert_fetched_all(self.fetch(server), server)
        self.assert_second_run_fetches_nothing(server)

    def test_bare_lf_line_ends_everywhere(self):
        # PR-C-6, node-pop3#26/#27: every line the server writes ends in a bare LF, its
        # terminators included; the stuffed "." and "..x" lines still come out right.
        server = self.serve(bare_lf=True)
        self.assert_fetched_all(self.fetch(server), server)
        self.assert_second_run_fetches_nothing(server)

    def test_ok_without_text(self):
        # R1957-c: "+OK" alone, even for STAT (MailKit#872 tolerance).
        server = self.serve(bare_ok=True)
        self.assert_fetched_all(self.fetch(server), server)
        self.assert_second_run_fetches_nothing(server)

    def test_sasl_go_ahead_continuation(self):
        # PR-C-8, MailKit#268: "+ go ahead" instead of a base64 challenge.
        server = self.serve(sasl=["LOGIN"], sasl_go_ahead=True)
        self.assert_fetched_all(self.fetch(server, auth=";AUTH=LOGIN"), server)
        self.assertIn("AUTH LOGIN", server.commands)
        self.assertNotIn("USER", server.command_names())

    def test_plain_without_room_for_an_initial_response_gets_go_ahead(self):
        # SPEC pitfall 20 + PR-C-8: a user name so long that AUTH PLAIN with its initial
        # response would pass 255 octets; the response waits for "+ go ahead".
        user = "u" * 200
        server = self.serve(user=user, sasl=["PLAIN"], sasl_go_ahead=True)
        env = dict(os.environ, POPLAR_PASSWORD="secret")
        result = subprocess.run(
            [POPLAR_BIN, "fetch", "pop://%s;AUTH=PLAIN@127.0.0.1:%d" % (user, server.port),
             "--to", "maildir:" + self.maildir, "--insecure-plaintext", "--state",
             self.state_path(server), "--timeout", "10"],
            capture_output=True, text=True, env=env, timeout=60)
        self.assert_fetched_all(result, server)
        self.assertIn("AUTH PLAIN", server.commands)

    def test_duplicate_uidls_are_both_delivered_once(self):
        # R1939-7-e: two identical messages with the same UIDL (a hash-based server).
        server = self.serve([ONE, ONE, TWO], uidls=["same", "same", "other"])
        self.assert_fetched_all(self.fetch(server), server, [ONE, ONE, TWO])
        self.assert_second_run_fetches_nothing(server)
        self.assertEqual(len(self.delivered()), 3)

    def test_empty_listing(self):
        # PR-C-4, curl#10: "+OK" then "." at once, for UIDL and LIST alike.
        server = self.serve([])
        result = self.fetch(server)
        self.assert_exit(result, EX_OK, 0)
        self.assertEqual(self.delivered(), [])
        self.assertEqual(server.command_names()[-1], "QUIT")

    def test_connection_closed_mid_retr_is_temporary_and_nothing_partial(self):
        server = self.serve(close_mid_retr=2, pipelining=False)
        result = self.fetch(server)
        self.assert_exit(result, EX_TEMPFAIL)
        self.assertIn("closed the connection", result.stderr)
        self.assertEqual(self.delivered(), [stored(ONE)])  # 1 before the cut, none after
        self.assert_nothing_partial()
        server.close_mid_retr = None  # the server recovers: the rest comes, nothing twice
        result = self.fetch(server)
        self.assert_exit(result, EX_OK, 2)
        self.assertEqual(self.delivered(), sorted(stored(m) for m in MESSAGES))
        self.assert_second_run_fetches_nothing(server)

    def test_quit_err_deletes_nothing_and_is_retried(self):
        # RFC 1939 §6: QUIT's -ERR means the marked messages stay; nothing may be forgotten.
        server = self.serve(quit_err=True)
        result = self.fetch(server, "--delete")
        self.assert_exit(result, EX_TEMPFAIL)
        self.assertIn("not removed", result.stderr)
        self.assertIn("could not remove deleted messages", result.stderr)
        self.assertEqual(self.delivered(), sorted(stored(m) for m in MESSAGES))
        self.assertEqual(server.deleted, [])
        self.assertEqual(len(server.remaining()), 3)
        server.quit_err = False  # next time the deletions go through, nothing is fetched twice
        result = self.fetch(server, "--delete")
        self.assert_exit(result, EX_OK, 0)
        self.assertIn(" 3 deleted,", result.stdout)
        self.assertEqual(server.remaining(), [])
        self.assertEqual(len(self.delivered()), 3)

    def test_expire_that_defeats_the_keep_policy_is_a_warning(self):
        # R2449-6.7-d: EXPIRE 0 means "deleted once retrieved": --keep cannot work; a
        # --keep-days not shorter than EXPIRE may lose the race against the server.
        server = self.serve(capa_extra=["EXPIRE 0"])
        result = self.fetch(server)
        self.assert_exit(result, 0)
        self.assertIn("warning: the server announces EXPIRE 0", result.stderr)
        server = self.serve(capa_extra=["EXPIRE 5"])
        result = self.fetch(server, "--keep-days", "7")
        self.assert_exit(result, 0)
        self.assertIn("warning: --keep-days 7 is not shorter than the server's EXPIRE 5",
                      result.stderr)
        server = self.serve(capa_extra=["EXPIRE 30"])
        result = self.fetch(server, "--keep-days", "7")
        self.assert_exit(result, 0)
        self.assertNotIn("warning", result.stderr)


class ResponseCodesAtPassTest(PitfallCase):
    # R2449-8-b, R3206-*, PR-C-14: the code decides the exit; the text is shown sanitised.
    CASES = [
        ("[IN-USE] your phone is connected", EX_TEMPFAIL),
        ("[LOGIN-DELAY] wait 300 seconds", EX_TEMPFAIL),
        ("[SYS/TEMP] storage is down", EX_TEMPFAIL),
        ("[sys/temp/disk] lower levels are ignored", EX_TEMPFAIL),
        ("[SYS/PERM] account disabled by the admin", EX_UNAVAILABLE),
        ("[AUTH] invalid credentials", EX_NOPERM),
        ("no code at all", EX_NOPERM),
    ]

    def test_each_code(self):
        for text, code in self.CASES:
            with self.subTest(text=text):
                server = self.serve(pass_error=text + "\x1b[31m")
                result = self.fetch(server)
                self.assert_exit(result, code)
                shown = text.split("] ", 1)[-1]
                self.assertIn(shown + "\\x1b[31m", result.stderr)
                self.assertNotIn("\x1b", result.stderr)
                self.assertNotIn("secret", result.stderr + result.stdout)
                self.assertEqual(self.delivered(), [])
                self.assertEqual(server.command_names().count("PASS"), 1)  # no hammering

    def test_wrong_password_is_77(self):
        server = self.serve()
        result = self.fetch(server, password="wrong")
        self.assert_exit(result, EX_NOPERM)
        self.assertNotIn("wrong", result.stderr + result.stdout)


class PipeliningRaceTest(PitfallCase):
    # PR-C-11, wildduck#950: RETR n+1's "+OK" is written before RETR n's terminating ".".

    def test_misordered_responses_never_deliver_a_corrupt_message(self):
        server = self.serve(pipelining=True, pipeline_race=True)
        result = self.fetch(server)
        self.assertGreaterEqual(server.races, 1, "the client did not pipeline its RETRs")
        # The message whose "." came too early carried a stray "+OK" line: it was never
        # delivered in that form (the lock-step session fetched it again, whole).
        for message in self.delivered():
            self.assertIn(message, [stored(m) for m in MESSAGES])
        self.assertIn("out of order", result.stderr)
        self.assert_nothing_partial()

    def test_falls_back_to_lock_step(self):
        server = self.serve(pipelining=True, pipeline_race=True)
        result = self.fetch(server)
        self.assertGreaterEqual(server.races, 1, "the client did not pipeline its RETRs")
        self.assert_fetched_all(result, server)
        self.assertIn("pipelin", result.stderr.lower())  # it says what it did
        self.assertEqual(server.connections, 2)
        self.assert_second_run_fetches_nothing(server)


if __name__ == "__main__":
    unittest.main()
