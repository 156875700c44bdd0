"""fetchmail (Debian package, 6.4) as an independent POP3 client: keep and nokeep with UIDL
tracking, delivery through an MDA, authentication failure, and the STLS refusal.

Every run uses a generated rcfile (mode 0600) with its own pidfile and idfile in the server's
temporary directory, HOME pointing there too, no syslog, no daemon mode, and -v for the log.
"""

import collections
import os
import poplib
import pwd
import subprocess
import unittest

from harness import (MSG_BIG, MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, PoplarServer, require,
                     unstuffed_wire)

MESSAGES = [MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE]

# fetchmail exit codes (fetchmail(1), EXIT CODES)
PS_SUCCESS, PS_NOMAIL, PS_SOCKET, PS_AUTHFAIL = 0, 1, 2, 3

# sslproto '' switches off STARTTLS: Poplar listens without TLS in these tests.
NO_TLS = "sslproto ''"


def local_form(stored: bytes) -> bytes:
    """What fetchmail hands to the MDA (with --invisible): the un-stuffed message, LF ends."""
    return unstuffed_wire(stored).replace(b"\r\n", b"\n")


class FetchmailTest(unittest.TestCase):
    def setUp(self):
        require("fetchmail")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()

    def start(self, messages):
        self.server = PoplarServer(mailboxes={"alice": list(messages)}).start()
        d = self.server.dir
        self.out = os.path.join(d, "delivered")
        os.makedirs(self.out)
        self.idfile = os.path.join(d, "fetchids")
        self.mda = os.path.join(d, "deliver.sh")
        with open(self.mda, "w") as f:  # one file per message, never overwritten
            f.write('#!/bin/sh\nexec cat > "$(mktemp "$1/msg.XXXXXX")"\n')
        os.chmod(self.mda, 0o700)

    def fetchmail(self, options, password="secret", *args):
        d = self.server.dir
        rc = os.path.join(d, "fetchmailrc")
        local_user = pwd.getpwuid(os.getuid()).pw_name
        with open(rc, "w") as f:
            f.write(f"""poll 127.0.0.1 service {self.server.port} protocol pop3 uidl timeout 20
  user "alice" there with password "{password}" is "{local_user}" here
  {options} norewrite
  mda "{self.mda} {self.out}"
""")
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=d, FETCHMAILHOME=d)
        cmd = ["fetchmail", "--fetchmailrc", rc, "--pidfile", os.path.join(d, "fetchmail.pid"),
               "--idfile", self.idfile, "--nosyslog", "--invisible", "-v", *args]
        return subprocess.run(cmd, capture_output=True, env=env, timeout=60)

    def delivered(self):
        out = []
        for name in os.listdir(self.out):
            with open(os.path.join(self.out, name), "rb") as f:
                out.append(f.read())
        return out

    def server_uidls(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        c.user("alice")
        c.pass_("secret")
        _, listing, _ = c.uidl()
        c.quit()
        return sorted(line.split()[1].decode() for line in listing)

    def assert_status(self, out, expected):
        self.assertEqual(out.returncode, expected,
                         (out.stdout + out.stderr).decode(errors="replace")[-4000:]
                         + self.server.log_text())

    def test_keep_fetches_every_message_exactly_and_then_nothing_new(self):
        self.start(MESSAGES)
        self.assert_status(self.fetchmail(f"keep {NO_TLS}"), PS_SUCCESS)
        self.assertEqual(sorted(self.delivered()), sorted(local_form(m) for m in MESSAGES))
        self.assertEqual(self.server.message_contents("alice"), sorted(MESSAGES))
        with open(self.idfile) as f:  # fetchmail keyed its state on our UIDLs
            seen = sorted(line.split()[1] for line in f if line.startswith("alice@"))
        self.assertEqual(seen, self.server_uidls())

        self.assert_status(self.fetchmail(f"keep {NO_TLS}"), PS_NOMAIL)
        self.assertEqual(len(self.delivered()), len(MESSAGES), "second run must not fetch again")

        extra = b"Subject: late arrival\n\nnew mail\n"
        self.server.deliver("alice", extra, seq=99)
        self.assert_status(self.fetchmail(f"keep {NO_TLS}"), PS_SUCCESS)
        self.assertEqual(sorted(self.delivered()),
                         sorted(local_form(m) for m in MESSAGES + [extra]))

    def test_nokeep_empties_the_server_and_delivers_each_message_once(self):
        messages = MESSAGES + [MSG_BIG] + [b"Subject: n%d\n\nbody %d\n" % (i, i) for i in range(8)]
        self.start(messages)
        out = self.fetchmail(f"nokeep {NO_TLS}")
        self.assert_status(out, PS_SUCCESS)
        self.assertEqual(out.stdout.count(b"POP3> DELE "), len(messages))
        self.assertEqual(self.server.message_files("alice"), [])
        self.assertEqual(collections.Counter(self.delivered()),
                         collections.Counter(local_form(m) for m in messages))
        self.assert_status(self.fetchmail(f"nokeep {NO_TLS}"), PS_NOMAIL)
        self.assertEqual(len(self.delivered()), len(messages))

    def test_wrong_password_exits_with_authfail(self):
        self.start(MESSAGES)
        out = self.fetchmail(f"nokeep {NO_TLS}", password="wrong")
        self.assert_status(out, PS_AUTHFAIL)
        self.assertIn(b"[AUTH]", out.stderr)
        self.assertEqual(self.delivered(), [])
        self.assertEqual(self.server.message_contents("alice"), sorted(MESSAGES))
        # The failed session left no lock behind: the right password works at once.
        self.assert_status(self.fetchmail(f"keep {NO_TLS}"), PS_SUCCESS)
        self.assertEqual(len(self.delivered()), len(MESSAGES))

    def test_stls_is_refused_cleanly_when_fetchmail_insists_on_tls(self):
        # fetchmail 6.4 checks certificates by default, which makes STARTTLS mandatory: it sends
        # STLS although CAPA does not list it. Poplar (no TLS configured) answers -ERR; fetchmail
        # then gives up without logging in. Nothing may be fetched or deleted, and the server
        # must carry on serving.
        self.start(MESSAGES)
        out = self.fetchmail("nokeep")
        log = out.stdout.decode(errors="replace").splitlines()
        self.assertIn("fetchmail: POP3> STLS", log)
        answer = log[log.index("fetchmail: POP3> STLS") + 1]
        self.assertTrue(answer.startswith("fetchmail: POP3< -ERR"), answer)
        self.assertNotIn("fetchmail: POP3> PASS *", log, "no password over a refused STLS")
        self.assert_status(out, PS_SOCKET)
        self.assertEqual(self.delivered(), [])
        self.assertEqual(self.server.message_contents("alice"), sorted(MESSAGES))
        self.assert_status(self.fetchmail(f"nokeep {NO_TLS}"), PS_SUCCESS)
        self.assertEqual(sorted(self.delivered()), sorted(local_form(m) for m in MESSAGES))


if __name__ == "__main__":
    unittest.main()
