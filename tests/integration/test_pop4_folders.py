"""POP4 FOLDERS (POP4.md "Folder commands", docs/pop4.md) on a real `poplar serve`, driven by
Python's poplib: CFLD, STOR with a flag, LFLD, SFLD and a STOR cut off mid-way; then a real
Dovecot run on the same Maildir afterwards must list the same folders and find the stored
message, with its \\Seen flag, where Poplar put it, and nothing of the cut-off one.

The expected folder names and bytes are written down here, not taken from Poplar's code.
"""

import os
import poplib
import shutil
import socket
import time
import unittest

from harness import PoplarServer, require

STORED = (b"From: Alice <alice@example.org>\r\n"
          b"Subject: kept in Archive\r\n"
          b"\r\n"
          b".a line that starts with a dot\r\n"
          b"the end\r\n")


def dot_stuff(message: bytes) -> bytes:
    lines = message.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)


class Pop4FoldersTest(unittest.TestCase):
    def setUp(self):
        self.server = PoplarServer(config_extra="[pop4]\nenabled = true\n").start()
        self.addCleanup(self.server.cleanup)

    def login(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        c.user("alice")
        c.pass_("secret")
        return c

    def stor(self, c, command, message):
        c._putcmd(command)
        self.assertEqual(c._getline()[0], b"+ send message")
        c.sock.sendall(dot_stuff(message) + b".\r\n")
        return c._getresp()

    def folder_files(self, folder):
        md = os.path.join(self.server.maildir("alice"), "." + folder)
        names = []
        for sub in ("new", "cur"):
            names += os.listdir(os.path.join(md, sub))
        return names

    def test_folders_stor_and_dovecot_sees_them(self):
        c = self.login()
        self.assertIn("FOLDERS", c.capa().get("X-POP4", []))
        self.assertTrue(c._shortcmd('CFLD "Sent Items"').startswith(b"+OK"))
        self.assertTrue(c._shortcmd("CFLD Work/2024").startswith(b"+OK"))
        self.assertTrue(c._shortcmd("CFLD Archive").startswith(b"+OK"))
        with self.assertRaises(poplib.error_proto):
            c._shortcmd("CFLD Archive")
        resp = self.stor(c, "STOR Archive (\\Seen)", STORED)
        self.assertTrue(resp.startswith(b"+OK "), resp)
        uidl = resp.split()[1]
        _, lines, _ = c._longcmd("LFLD")
        self.assertEqual(lines[0].split()[0], b"INBOX")
        self.assertEqual(lines[1:], [b"Archive 1 %d" % len(STORED), b'"Sent Items" 0 0',
                                     b"Work 0 0", b"Work/2024 0 0"])
        self.assertEqual(c._shortcmd("SFLD Archive"), b"+OK 1 %d" % len(STORED))
        self.assertEqual(c.uidl(1).split()[2], uidl)
        self.assertEqual(b"\r\n".join(c.retr(1)[1]) + b"\r\n", STORED)
        c.quit()

        # A STOR whose connection ends in the middle leaves nothing in the folder.
        c = self.login()
        c._putcmd("STOR Archive")
        self.assertEqual(c._getline()[0], b"+ send message")
        c.sock.sendall(b"Subject: cut off\r\n\r\nhalf a mess")
        c.sock.shutdown(socket.SHUT_RDWR)
        c.sock.close()
        # The server has noticed once it logs the second session's disconnect line.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.server.log_text().count("disconnect") < 2:
            time.sleep(0.05)
        self.assertEqual(self.server.log_text().count("disconnect"), 2)
        self.assertEqual(len(self.folder_files("Archive")), 1)
        self.assertEqual(os.listdir(os.path.join(self.server.maildir("alice"), ".Archive",
                                                 "tmp")), [])
        c = self.login()
        self.assertEqual(c._shortcmd("SFLD Archive"), b"+OK 1 %d" % len(STORED))
        c.quit()
        self.server.stop()

        self.check_with_dovecot()

    def check_with_dovecot(self):
        require("doveadm")
        from dovecot import DovecotServer
        dovecot = DovecotServer(separator="/")
        self.addCleanup(dovecot.cleanup)
        target = dovecot.maildir("alice")
        shutil.rmtree(target)
        shutil.copytree(self.server.maildir("alice"), target)
        dovecot.chown_mail()
        dovecot.start()
        names = set(dovecot.doveadm("mailbox", "list", "-u", "alice").split("\n")) - {""}
        self.assertEqual(names, {"INBOX", "Sent Items", "Work", "Work/2024", "Archive"})
        fetched = dovecot.doveadm("fetch", "-u", "alice", "flags text", "mailbox", "Archive",
                                  "all")
        self.assertEqual(fetched.count("flags:"), 1, fetched)
        self.assertIn("\\Seen", fetched)
        self.assertIn("Subject: kept in Archive", fetched)
        self.assertIn(".a line that starts with a dot", fetched)
        self.assertNotIn("cut off", fetched)


if __name__ == "__main__":
    unittest.main()
