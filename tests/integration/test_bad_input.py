"""Hostile and broken input against a real server: every case ends in a clear -ERR or a clean
close, never a crash, a hang, a lost message or a deletion without QUIT."""

import time
import unittest

from harness import MSG_BIG, MSG_CRLF, MSG_LF_DOTS, PoplarServer


class BadInputTest(unittest.TestCase):
    def setUp(self):
        self.server = PoplarServer(mailboxes={"alice": [MSG_CRLF, MSG_LF_DOTS, MSG_BIG]}).start()

    def tearDown(self):
        alive = self.server.proc is not None and self.server.proc.poll() is None
        rc = self.server.stop()
        log = self.server.log_text()
        self.server.cleanup()
        self.assertTrue(alive, "server died:\n" + log)
        self.assertEqual(rc, 0, "server exit code after SIGTERM:\n" + log)
        self.assertNotIn("runtime error", log)   # UBSan
        self.assertNotIn("AddressSanitizer", log)

    def assert_still_serving(self):
        c = self.server.connect()
        self.assertTrue(c.login().startswith(b"+OK"))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        c.close()

    def test_numbers_that_overflow_are_refused(self):
        c = self.server.connect()
        c.login()
        for cmd in ("LIST 4294967297", "LIST 4294967296", "RETR 18446744073709551617",
                    "LIST 0", "LIST -1", "LIST +1", "LIST 1x", "TOP 1 -1", "TOP 1",
                    "TOP 1 4294967297", "DELE", "RETR", "LIST 1 2", "UIDL 99"):
            self.assertTrue(c.cmd(cmd).startswith(b"-ERR"), cmd)
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 3 "))
        c.cmd("QUIT")
        self.assertEqual(len(self.server.message_files("alice")), 3)

    def test_garbage_and_nul_bytes(self):
        c = self.server.connect()
        self.assertTrue(c.line().startswith(b"+OK"))
        c.send(b"\x00\x01\x02\xff\xfe\r\n")
        self.assertTrue(c.line().startswith(b"-ERR"))
        c.send(b"NO\x00OP\r\n")
        self.assertTrue(c.line().startswith(b"-ERR"))
        c.send(b"USER al\x00ice\r\n")
        self.assertTrue(c.line().startswith(b"-ERR"))
        c.send(b"\r\n")
        self.assertTrue(c.line().startswith(b"-ERR"))
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        c.close()
        self.assert_still_serving()

    def test_ten_megabyte_line_without_crlf(self):
        c = self.server.connect()
        self.assertTrue(c.line().startswith(b"+OK"))
        chunk = b"A" * 65536
        try:
            for _ in range(160):
                c.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may give up on us: that is a clean close too
        else:
            try:
                c.send(b"\r\nNOOP\r\n")
                first = c.line()
                self.assertTrue(first.startswith(b"-ERR"), first)
            except (EOFError, ConnectionResetError, BrokenPipeError):
                pass
        c.close()
        self.assert_still_serving()

    def test_too_many_bad_commands_disconnects(self):
        c = self.server.connect()
        c.line()
        closed = False
        try:
            for _ in range(50):
                if not c.cmd("BOGUS").startswith(b"-ERR"):
                    self.fail("bad command accepted")
        except (EOFError, ConnectionResetError, BrokenPipeError):
            closed = True
        self.assertTrue(closed, "server kept answering 50 bad commands")
        c.close()
        self.assert_still_serving()

    def test_disconnect_in_the_middle_of_retr_keeps_every_message(self):
        c = self.server.connect()
        c.login()
        self.assertTrue(c.cmd("DELE 1").startswith(b"+OK"))
        c.send(b"RETR 3\r\n")
        c.sock.recv(1000)
        c.close()  # gone mid-reply, without QUIT
        time.sleep(0.2)
        self.assertEqual(len(self.server.message_files("alice")), 3)
        self.assert_still_serving_with_retry()

    def assert_still_serving_with_retry(self):
        deadline = time.monotonic() + 10
        while True:
            c = self.server.connect()
            reply = c.login()
            if reply.startswith(b"+OK"):
                c.cmd("QUIT")
                c.close()
                return
            c.close()
            if b"[IN-USE]" not in reply or time.monotonic() > deadline:
                self.fail(reply)
            time.sleep(0.05)

    def test_pipelined_commands_are_answered_in_order(self):
        c = self.server.connect()
        c.line()
        c.send(b"USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nRETR 2\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n")
        self.assertTrue(c.line().startswith(b"+OK"))          # USER
        self.assertTrue(c.line().startswith(b"+OK"))          # PASS
        self.assertTrue(c.line().startswith(b"+OK 3 "))       # STAT
        self.assertTrue(c.line().startswith(b"+OK"))          # LIST
        self.assertEqual(len(c.multiline()), 3)
        self.assertTrue(c.line().startswith(b"+OK"))          # RETR 2
        body = c.multiline()
        self.assertIn(b".starts with a dot", body)
        self.assertTrue(c.line().startswith(b"+OK 1 "))       # UIDL 1
        self.assertTrue(c.line().startswith(b"+OK"))          # NOOP
        self.assertTrue(c.line().startswith(b"+OK"))          # QUIT
        self.assertTrue(c.closed_by_server())

    def test_pipelined_retr_of_everything_while_client_reads_late(self):
        c = self.server.connect()
        c.login()
        # Write many commands before reading anything: the server must keep reading input while
        # its output drains, and answer in order.
        c.send(b"RETR 3\r\n" * 20 + b"QUIT\r\n")
        for _ in range(20):
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertEqual(len(c.multiline()), 40002)
        self.assertTrue(c.line().startswith(b"+OK"))

    def test_client_blocked_writing_while_server_blocked_writing(self):
        # The client writes a batch far larger than one server read (16 KiB) before reading
        # anything, through small socket buffers: the server's RETR replies (8 MB) block long
        # before the batch is in, so the rest of the batch arrives while the server waits to
        # write and is taken in by the drain (net/connection.h), then answered in order.
        # (How much a client may write without reading is bounded by the kernel's buffers plus
        # the drain's 64 KiB; this batch stays well inside that on Linux defaults.)
        c = self.server.connect(timeout=20, rcvbuf=4096, sndbuf=4096)
        c.login()
        retrs = 200  # 8 MB of replies: more than any socket buffer holds
        noops = 20000  # 120 KB of input behind them
        c.send(b"RETR 3\r\n" * retrs + b"NOOP\r\n" * noops + b"STAT\r\nQUIT\r\n")
        for _ in range(retrs):
            self.assertTrue(c.line().startswith(b"+OK"))
            self.assertEqual(len(c.multiline()), 40002)
        for _ in range(noops):
            self.assertTrue(c.line().startswith(b"+OK"))
        self.assertTrue(c.line().startswith(b"+OK 3 "))
        self.assertTrue(c.line().startswith(b"+OK"))
        self.assertTrue(c.closed_by_server())

    def test_quit_in_authorization_deletes_nothing(self):
        c = self.server.connect()
        c.line()
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        self.assertTrue(c.closed_by_server())
        self.assertEqual(len(self.server.message_files("alice")), 3)

    def test_pass_without_user_and_user_after_login(self):
        c = self.server.connect()
        c.line()
        self.assertTrue(c.cmd("PASS secret").startswith(b"-ERR"))
        self.assertTrue(c.cmd("USER alice").startswith(b"+OK"))
        self.assertTrue(c.cmd("PASS secret").startswith(b"+OK"))
        self.assertTrue(c.cmd("USER alice").startswith(b"-ERR"))
        self.assertTrue(c.cmd("PASS secret").startswith(b"-ERR"))
        c.cmd("QUIT")

    def test_lowercase_commands_work(self):
        c = self.server.connect()
        c.line()
        self.assertTrue(c.cmd("user alice").startswith(b"+OK"))
        self.assertTrue(c.cmd("pass secret").startswith(b"+OK"))
        self.assertTrue(c.cmd("sTaT").startswith(b"+OK 3 "))
        c.cmd("quit")

    def test_stray_and_vanishing_files_in_the_maildir(self):
        import os
        md = self.server.maildir("alice")
        os.makedirs(os.path.join(md, "cur", "a-directory"))
        with open(os.path.join(md, "new", ".hidden"), "wb") as f:
            f.write(b"not a message")
        c = self.server.connect()
        c.login()
        stat = c.cmd("STAT")
        self.assertTrue(stat.startswith(b"+OK 3 "), stat)
        # A message vanishes under the session (another agent removed it).
        victim = [p for p in self.server.message_files("alice")
                  if os.path.isfile(p) and not os.path.basename(p).startswith(".")][0]
        os.unlink(victim)
        replies = [c.cmd("RETR %d" % n) for n in (1, 2, 3)]
        errs = [r for r in replies if r.startswith(b"-ERR")]
        self.assertEqual(len(errs), 1, replies)
        self.assertIn(b"[SYS/TEMP]", errs[0])
        for r in replies:
            if r.startswith(b"+OK"):
                c.multiline()
        self.assertTrue(c.cmd("NOOP").startswith(b"+OK"))
        c.cmd("QUIT")


if __name__ == "__main__":
    unittest.main()
