"""kill -9 of a real server at points of a session, then a restart on the same Maildir.

After every crash: the Maildir holds exactly the messages it may hold (RFC 1939 §6: only
QUIT's UPDATE removes messages; a marked message is either gone or present, because each
unlink is atomic; an unmarked one is always present; none is ever duplicated), a new login
works at once (the session lock is an flock, which dies with the process), LIST sizes still
equal the octets RETR sends (the size index is not stale), and the UIDLs of the remaining
messages are unchanged.
"""

import collections
import os
import poplib
import unittest

from harness import (MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, PoplarServer, unstuffed_wire,
                     wait_until)


def small_messages(n):
    return [b"From: s%d@example.org\nSubject: message %d\n\nbody of message %d\n" % (i, i, i)
            for i in range(n)]


def huge_message():
    """Larger than any send buffer plus receive window the kernel may give the connection, so a
    RETR of it cannot be completely handed to the kernel before the client reads on."""
    limit = 4 * 1024 * 1024
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            limit = max(limit, int(f.read().split()[2]))
    except (OSError, ValueError, IndexError):
        pass
    line = b"a line of a huge message, long enough to look like text...........\n"
    return b"Subject: huge\n\n" + line * (3 * limit // len(line))


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()

    def start(self, messages):
        self.server = PoplarServer(mailboxes={"alice": list(messages)}).start()
        return self.server

    def snapshot(self):
        """UIDL -> message as retrieved, through a fresh login (which must not meet a stale
        lock). Messages over 1 MB are represented by their size only."""
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=20)
        c.user("alice")
        reply = c.pass_("secret")
        self.assertTrue(reply.startswith(b"+OK"), reply)
        _, uidls, _ = c.uidl()
        _, sizes, _ = c.list()
        out = {}
        for u, s in zip(uidls, sizes):
            n, uid = u.split()
            n2, size = s.split()
            self.assertEqual(n, n2)
            if int(size) > 1024 * 1024:
                out[uid] = int(size)
                continue
            _, lines, octets = c.retr(int(n))
            self.assertEqual(octets, int(size), "LIST size must equal RETR octets")
            out[uid] = b"".join(line + b"\r\n" for line in lines)
        c.quit()
        return out

    def crash_and_restart(self):
        self.server.kill9()
        self.server.start()

    def assert_no_duplicates(self):
        files = self.server.message_files("alice")
        bases = [os.path.basename(p).split(":")[0] for p in files]
        self.assertEqual(len(bases), len(set(bases)), files)
        counts = collections.Counter(self.server.message_contents("alice"))
        self.assertEqual([m for m, k in counts.items() if k > 1], [])

    def test_kill_after_dele_before_quit_deletes_nothing(self):
        messages = [MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE] + small_messages(5)
        self.start(messages)
        before = self.snapshot()
        c = self.server.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        for n in (1, 3, 8):
            self.assertTrue(c.cmd("DELE %d" % n).startswith(b"+OK"))
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 5 "))
        self.crash_and_restart()
        self.assertTrue(c.closed_by_server())
        c.close()
        self.assertEqual(self.server.message_contents("alice"), sorted(messages))
        self.assert_no_duplicates()
        self.assertEqual(self.snapshot(), before)

    def test_kill_during_retr_of_a_huge_message_loses_nothing(self):
        huge = huge_message()
        messages = small_messages(3) + [huge] + small_messages(6)[3:]
        self.start(messages)
        before = self.snapshot()
        wire_len = len(unstuffed_wire(huge))
        # A small receive window keeps most of the message in the server until the client reads.
        c = self.server.connect(timeout=20, rcvbuf=4096)
        self.assertTrue(c.login().startswith(b"+OK"))
        self.assertTrue(c.cmd("DELE 1").startswith(b"+OK"))
        reply = c.cmd("RETR 4")
        self.assertTrue(reply.startswith(b"+OK"), reply)
        while len(c.buf) < 256 * 1024:  # the transfer is under way
            chunk = c.sock.recv(65536)
            self.assertTrue(chunk, "connection closed during RETR")
            c.buf += chunk
        self.crash_and_restart()
        self.assertTrue(c.closed_by_server(timeout=20))
        c.close()
        self.assertLess(len(c.buf), wire_len, "the kill must have interrupted the RETR")
        self.assertFalse(c.buf.endswith(b"\r\n.\r\n"))
        self.assertEqual(self.server.message_contents("alice"), sorted(messages))
        self.assert_no_duplicates()
        self.assertEqual(self.snapshot(), before)

    def path_of(self, content):
        for path in self.server.message_files("alice"):
            with open(path, "rb") as f:
                if f.read() == content:
                    return path
        raise AssertionError("message not in the Maildir")

    def test_kill_around_quit_is_per_message_atomic(self):
        # 200 messages, 68 marked, so the UPDATE takes long enough to be caught in the middle.
        # Kill points: QUIT sent but perhaps not read; the first unlink seen; half of the
        # unlinks seen (the watcher may be late, the kill then lands further on); +OK received.
        messages = small_messages(200)
        marked = sorted(set(range(2, 201, 3)) | {1, 200})
        marked_contents = {messages[n - 1] for n in marked}
        marked_wire = {unstuffed_wire(m) for m in marked_contents}
        unmarked_contents = set(messages) - marked_contents

        def gone(content):  # polls one path: cheap enough to catch the unlinks in progress
            def prepare():
                path = self.path_of(content)
                return lambda c: wait_until(lambda: not os.path.exists(path), interval=0)
            return prepare

        kill_points = {  # name -> (called before QUIT) -> (called after QUIT was sent)
            "quit-sent": lambda: lambda c: None,
            "first-unlink": gone(messages[marked[0] - 1]),
            "half-unlinked": gone(messages[marked[len(marked) // 2] - 1]),
            "quit-acknowledged": lambda: lambda c: self.assertTrue(c.line().startswith(b"+OK")),
        }
        before = None  # every run delivers under the same file names, so the same UIDLs
        for point, prepare in kill_points.items():
            with self.subTest(kill_point=point):
                self.start(messages)
                if before is None:
                    before = self.snapshot()
                c = self.server.connect()
                self.assertTrue(c.login().startswith(b"+OK"))
                c.send(b"".join(b"DELE %d\r\n" % n for n in marked))  # pipelined
                for n in marked:
                    self.assertTrue(c.line().startswith(b"+OK"), n)
                wait = prepare()
                c.send(b"QUIT\r\n")
                wait(c)
                quit_acknowledged = c.buf.startswith(b"+OK") or point == "quit-acknowledged"
                self.crash_and_restart()
                self.assertTrue(c.closed_by_server())
                c.close()
                quit_acknowledged = quit_acknowledged or c.buf.startswith(b"+OK")

                self.assert_no_duplicates()
                left = set(self.server.message_contents("alice"))
                self.assertLessEqual(unmarked_contents, left, "an unmarked message was lost")
                self.assertLessEqual(left, set(messages))
                if quit_acknowledged:  # +OK to QUIT comes after the UPDATE (RFC 1939 §6)
                    self.assertEqual(left, unmarked_contents)
                after = self.snapshot()
                self.assertEqual(after, {u: before[u] for u in after})  # UIDLs unchanged

                # A later session finishes the job: it deletes the survivors of the marked set.
                p = poplib.POP3("127.0.0.1", self.server.port, timeout=20)
                p.user("alice")
                p.pass_("secret")
                for n, wire in enumerate(after.values(), start=1):  # in UIDL listing order
                    if wire in marked_wire:
                        p.dele(n)
                self.assertTrue(p.quit().startswith(b"+OK"))
                self.assertEqual(set(self.server.message_contents("alice")), unmarked_contents)
                self.server.cleanup()
                self.server = None

    def test_kill_during_the_first_login_leaves_a_usable_size_index(self):
        # The first login reads every message and writes <maildir>/poplar-index (tmp file,
        # fsync, rename; docs/formats/maildir.md). A kill at any point of that must not leave
        # wrong sizes behind. Kill points: PASS sent; session lock taken; index being written
        # (or already renamed, if the watcher was late); index in place; +OK received.
        messages = small_messages(200)

        def exists(*names):
            md = self.server.maildir("alice")
            return lambda: any(os.path.exists(os.path.join(md, n)) for n in names)

        kill_points = {
            "pass-sent": lambda c: None,
            "locked": lambda c: wait_until(exists("poplar.lock"), interval=0),
            "index-tmp": lambda c: wait_until(exists("poplar-index.tmp", "poplar-index"),
                                              interval=0),
            "index-renamed": lambda c: wait_until(exists("poplar-index"), interval=0),
            "logged-in": lambda c: self.assertTrue(c.line().startswith(b"+OK")),
        }
        for point, wait in kill_points.items():
            with self.subTest(kill_point=point):
                self.start(messages)
                expected = {}
                for path in self.server.message_files("alice"):
                    with open(path, "rb") as f:  # UIDL rule 1 of docs/formats/maildir.md
                        expected[os.path.basename(path).encode()] = unstuffed_wire(f.read())
                c = self.server.connect()
                self.assertTrue(c.line().startswith(b"+OK"))
                self.assertTrue(c.cmd("USER alice").startswith(b"+OK"))
                c.send(b"PASS secret\r\n")
                wait(c)
                self.crash_and_restart()
                c.close()
                self.assertEqual(self.snapshot(), expected)
                self.server.restart()  # and again, now with the index the snapshot wrote
                self.assertEqual(self.snapshot(), expected)
                self.assert_no_duplicates()
                self.server.cleanup()
                self.server = None

if __name__ == "__main__":
    unittest.main()
