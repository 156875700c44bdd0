"""POP4 FLAGS, COPY and MOVE (POP4.md "Flag commands", "Folder commands"; docs/pop4.md) on a
real `poplar serve` over a Maildir, driven by Python's poplib: FLAG on INBOX messages, QUIT,
FLGS after reconnecting; the 27th keyword of a folder refused at FLAG time so that QUIT still
succeeds; MOVE into Archive. Then a real Dovecot, run on the same Maildir afterwards, must report
the same flags (\\Seen and the $Junk keyword) on the same messages, and the moved message in
Archive and no longer in INBOX.

The expected flags and messages are written down here, not taken from Poplar's code.
"""

import poplib
import shutil
import subprocess
import unittest

from harness import PoplarServer, require


def message(n: int) -> bytes:
    return (b"From: Carol <carol@example.org>\r\n"
            b"Subject: message %d\r\n"
            b"\r\n"
            b"Body of message %d.\r\n" % (n, n))


class Pop4FlagsTest(unittest.TestCase):
    def setUp(self):
        self.server = PoplarServer(mailboxes={"alice": [message(1), message(2), message(3)]},
                                   config_extra="[pop4]\nenabled = true\n").start()
        self.addCleanup(self.server.cleanup)

    def login(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        c.user("alice")
        c.pass_("secret")
        return c

    def flgs(self, c):
        _, lines, _ = c._longcmd("FLGS")
        return [l.decode() for l in lines]

    def dovecot_fetch(self, mailbox):
        """{subject: flags} of every message Dovecot finds in the mailbox."""
        require("doveadm")
        from dovecot import DovecotServer
        dovecot = DovecotServer()  # Maildir++ as Poplar writes it; the mailboxes are top-level
        self.addCleanup(dovecot.cleanup)
        target = dovecot.maildir("alice")
        shutil.rmtree(target)
        shutil.copytree(self.server.maildir("alice"), target)
        dovecot._chown_mail()
        dovecot.start()
        done = subprocess.run(["doveadm", "-c", dovecot.conf, "fetch", "-u", "alice",
                               "flags hdr.subject", "mailbox", mailbox, "all"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        out = done.stdout
        found = {}
        for record in out.split("\f"):
            flags = subject = None
            for line in record.strip("\n").split("\n"):
                if line.startswith("flags:"):
                    flags = set(line[len("flags:"):].split()) - {"\\Recent"}
                elif line.startswith("hdr.subject:"):
                    subject = line[len("hdr.subject:"):].strip()
            if subject is not None:
                found[subject] = flags
        return found

    def test_flags_reach_the_maildir_and_dovecot_reads_them(self):
        c = self.login()
        self.assertIn("FLAGS", c.capa().get("X-POP4", []))
        self.assertEqual(self.flgs(c), ["1", "2", "3"])
        self.assertEqual(c._shortcmd("FLAG 1 +\\Seen +$Junk"), b"+OK Flags changed.")
        self.assertEqual(c._shortcmd("FLAG 2:3 +\\Flagged"), b"+OK Flags changed.")
        self.assertEqual(c._shortcmd("FLAG 3 -\\Flagged +\\Answered"), b"+OK Flags changed.")
        self.assertEqual(self.flgs(c), ["1 \\Seen $Junk", "2 \\Flagged", "3 \\Answered"])
        with self.assertRaises(poplib.error_proto) as refused:
            c._shortcmd("FLAG 1 +\\Recent")
        self.assertIn(b"\\Recent", refused.exception.args[0])
        self.assertEqual(c.quit(), b"+OK Bye, 0 messages deleted.")

        # FLGS after reconnecting shows what UPDATE stored.
        c = self.login()
        self.assertEqual(self.flgs(c), ["1 \\Seen $Junk", "2 \\Flagged", "3 \\Answered"])
        c.quit()
        self.server.stop()

        found = self.dovecot_fetch("INBOX")
        self.assertEqual(found, {"message 1": {"\\Seen", "$Junk"},
                                 "message 2": {"\\Flagged"},
                                 "message 3": {"\\Answered"}})

    def test_a_27th_keyword_is_refused_at_flag_and_quit_succeeds(self):
        c = self.login()
        first = " ".join("+kw%02d" % k for k in range(1, 14))
        second = " ".join("+kw%02d" % k for k in range(14, 27))
        self.assertEqual(c._shortcmd("FLAG 1 " + first), b"+OK Flags changed.")
        self.assertEqual(c._shortcmd("FLAG 2 " + second), b"+OK Flags changed.")
        with self.assertRaises(poplib.error_proto) as refused:
            c._shortcmd("FLAG 3 +kw27 +\\Seen")
        self.assertTrue(refused.exception.args[0].startswith(b"-ERR [SYS/PERM] "),
                        refused.exception.args[0])
        # Nothing of the refused command changed; keywords the folder will have still fit.
        self.assertEqual(self.flgs(c)[2], "3")
        self.assertEqual(c._shortcmd("FLAG 3 +KW01 +\\Seen"), b"+OK Flags changed.")
        self.assertEqual(c.quit(), b"+OK Bye, 0 messages deleted.")

        c = self.login()
        lines = self.flgs(c)
        self.assertEqual(lines[0], "1 " + " ".join("kw%02d" % k for k in range(1, 14)))
        self.assertEqual(lines[1], "2 " + " ".join("kw%02d" % k for k in range(14, 27)))
        self.assertEqual(lines[2], "3 \\Seen kw01")
        with self.assertRaises(poplib.error_proto):
            c._shortcmd("FLAG 3 +kw27")  # the 26 letters are given for good
        c.quit()

    def test_move_to_archive_and_dovecot_finds_it_there(self):
        c = self.login()
        self.assertIn("FOLDERS", c.capa().get("X-POP4", []))
        self.assertTrue(c._shortcmd("CFLD Archive").startswith(b"+OK"))
        self.assertEqual(c._shortcmd("FLAG 2 +\\Seen"), b"+OK Flags changed.")
        self.assertEqual(c._shortcmd("MOVE 2 Archive"), b"+OK 1 moved")
        self.assertEqual(c._shortcmd("COPY 3 Archive"), b"+OK 1 copied")
        self.assertEqual(c.stat()[0], 2)
        self.assertEqual(c.quit(), b"+OK Bye, 1 message deleted.")

        c = self.login()
        self.assertEqual(c.stat()[0], 2)
        self.assertEqual(c._shortcmd("SFLD Archive").split()[:2], [b"+OK", b"2"])
        self.assertEqual(self.flgs(c), ["1 \\Seen", "2"])
        c.quit()
        self.server.stop()

        self.assertEqual(self.dovecot_fetch("Archive"),
                         {"message 2": {"\\Seen"}, "message 3": set()})
        inbox = self.dovecot_fetch("INBOX")
        self.assertEqual(set(inbox), {"message 1", "message 3"})


if __name__ == "__main__":
    unittest.main()
