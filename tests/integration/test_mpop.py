"""mpop (Debian package) as an independent POP3 client: fetch into a local Maildir with and
without keep, UIDL tracking across runs, pipelined retrieval of a large maildrop, --serverinfo.

mpop runs with --host, so it uses command-line settings only and never reads a configuration
file; HOME points into the server's temporary directory all the same.
"""

import collections
import os
import poplib
import re
import subprocess
import unittest

from harness import (MSG_BIG, MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, PoplarServer, require,
                     unstuffed_wire)

MESSAGES = [MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE]

EX_NOPERM = 77  # sysexits.h: mpop's exit code for an authentication failure


def local_form(stored: bytes) -> bytes:
    """What mpop's maildir delivery writes: the un-stuffed wire form with LF line ends."""
    return unstuffed_wire(stored).replace(b"\r\n", b"\n")


def strip_received(delivered: bytes) -> bytes:
    """Removes the Received: header mpop prepends (a first line plus its continuation lines)."""
    assert delivered.startswith(b"Received: "), delivered[:200]
    lines = delivered.split(b"\n")
    i = 1
    while lines[i].startswith((b"\t", b" ")):
        i += 1
    return b"\n".join(lines[i:])


def numbered_message(i: int) -> bytes:
    return (b"From: sender%d@example.org\nTo: alice@example.org\nSubject: message %03d\n\n"
            b"Body of message %d.\n.a line starting with a dot\n" % (i, i, i)) + b"x" * (i * 37)


class MpopTest(unittest.TestCase):
    def setUp(self):
        require("mpop")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()

    def start(self, messages):
        self.server = PoplarServer(mailboxes={"alice": list(messages)}).start()
        self.local = os.path.join(self.server.dir, "local-maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.local, sub), exist_ok=True)
        self.uidls = os.path.join(self.server.dir, "mpop-uidls")

    def mpop(self, *args, password="secret", timeout=60):
        cmd = ["mpop", "--host=127.0.0.1", f"--port={self.server.port}", "--tls=off",
               "--auth=user", "--user=alice", f"--passwordeval=echo {password}",
               "--timeout=20", f"--delivery=maildir,{self.local}",
               f"--uidls-file={self.uidls}", *args]
        env = dict(os.environ, HOME=self.server.dir)
        return subprocess.run(cmd, capture_output=True, env=env, timeout=timeout)

    def delivered(self):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.local, sub)
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    out.append(f.read())
        return out

    def server_uidls(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        c.user("alice")
        c.pass_("secret")
        _, listing, _ = c.uidl()
        c.quit()
        return sorted(line.split()[1].decode() for line in listing)

    def assert_ok(self, out):
        self.assertEqual(out.returncode, 0,
                         out.stderr.decode(errors="replace")[-3000:] + self.server.log_text())

    def test_fetch_with_keep_delivers_every_message_exactly(self):
        self.start(MESSAGES)
        out = self.mpop("--keep=on")
        self.assert_ok(out)
        got = self.delivered()
        self.assertEqual(len(got), len(MESSAGES))
        # mpop prepends a Received: header by default; everything after it is the message.
        self.assertEqual(sorted(strip_received(m) for m in got),
                         sorted(local_form(m) for m in MESSAGES))
        self.assertEqual(self.server.message_contents("alice"), sorted(MESSAGES))

    def test_second_run_fetches_nothing_new_and_third_only_the_new_message(self):
        self.start(MESSAGES)
        self.assert_ok(self.mpop("--keep=on", "--received-header=off"))
        self.assertEqual(len(self.delivered()), 3)
        with open(self.uidls) as f:
            recorded = f.read()
        for uid in self.server_uidls():  # mpop keyed its state on our UIDLs
            self.assertIn("\n" + uid + "\n", recorded)

        self.assert_ok(self.mpop("--keep=on", "--received-header=off"))
        self.assertEqual(len(self.delivered()), 3, "second run must not fetch again")

        extra = b"Subject: late arrival\n\nnew mail\n"
        self.server.deliver("alice", extra, seq=99)
        self.assert_ok(self.mpop("--keep=on", "--received-header=off"))
        self.assertEqual(sorted(self.delivered()),
                         sorted(local_form(m) for m in MESSAGES + [extra]))
        self.assertEqual(len(self.server.message_files("alice")), 4)

    def test_fetch_without_keep_empties_the_server_and_delivers_each_once(self):
        self.start(MESSAGES)
        self.assert_ok(self.mpop("--keep=off", "--received-header=off"))
        self.assertEqual(self.server.message_files("alice"), [])
        self.assertEqual(collections.Counter(self.delivered()),
                         collections.Counter(local_form(m) for m in MESSAGES))
        # Nothing left: a second run delivers nothing more.
        self.assert_ok(self.mpop("--keep=off", "--received-header=off"))
        self.assertEqual(len(self.delivered()), len(MESSAGES))

    def test_pipelined_fetch_of_fifty_messages_with_a_big_one(self):
        messages = [numbered_message(i) for i in range(49)]
        messages.insert(17, MSG_BIG)
        self.start(messages)
        out = self.mpop("--keep=off", "--received-header=off", "--pipelining=auto", "-d",
                        timeout=90)
        self.assert_ok(out)
        # mpop really pipelined: RETR 2 went out before the answer to RETR 1 came back.
        log = [line.rstrip("\r") for line in out.stdout.decode(errors="replace").split("\n")]
        retr1 = log.index("--> RETR 1")
        first_answer = next(i for i in range(retr1 + 1, len(log)) if log[i].startswith("<-- "))
        self.assertIn("--> RETR 2", log[retr1:first_answer], "mpop did not pipeline")
        self.assertEqual(sum(1 for line in log if re.fullmatch(r"--> DELE \d+", line)), 50)
        self.assertEqual(self.server.message_files("alice"), [])
        self.assertEqual(collections.Counter(self.delivered()),
                         collections.Counter(local_form(m) for m in messages))

    def test_wrong_password_fails_and_touches_nothing(self):
        self.start(MESSAGES)
        out = self.mpop("--keep=off", password="wrong")
        self.assertEqual(out.returncode, EX_NOPERM, out.stderr)
        self.assertIn(b"[AUTH]", out.stderr)
        self.assertEqual(self.delivered(), [])
        self.assertEqual(self.server.message_contents("alice"), sorted(MESSAGES))

    def test_serverinfo_shows_our_capabilities(self):
        self.start(MESSAGES)
        out = self.mpop("--serverinfo")
        self.assert_ok(out)
        text = out.stdout.decode(errors="replace")
        self.assertIn("test.example.org Poplar POP3 server ready", text)
        for capability in ("TOP:", "UIDL:", "PIPELINING:", "RESP-CODES:", "AUTH-RESP-CODE:",
                           "EXPIRE NEVER", "USER"):
            self.assertIn(capability, text)


if __name__ == "__main__":
    unittest.main()
