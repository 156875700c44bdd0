"""RFC 1939 / 2449 behaviour of a real `poplar serve`, driven by Python's poplib."""

import os
import poplib
import unittest

from harness import (MSG_BIG, MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE, PoplarServer,
                     poplar_hash, unstuffed_wire, wire_size)

MESSAGES = [MSG_CRLF, MSG_LF_DOTS, MSG_NO_FINAL_NEWLINE]


class PoplibTest(unittest.TestCase):
    def setUp(self):
        self.server = PoplarServer(mailboxes={"alice": list(MESSAGES)}).start()

    def tearDown(self):
        self.server.cleanup()

    def client(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        c.user("alice")
        c.pass_("secret")
        return c

    def test_greeting_and_stat(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        self.assertTrue(c.getwelcome().startswith(b"+OK "))
        c.user("alice")
        c.pass_("secret")
        count, size = c.stat()
        self.assertEqual(count, 3)
        self.assertEqual(size, sum(wire_size(m) for m in MESSAGES))
        self.assertTrue(c.quit().startswith(b"+OK"))

    def test_list_sizes_equal_retrieved_octets(self):
        c = self.client()
        _, listing, _ = c.list()
        sizes = {int(n): int(s) for n, s in (line.split() for line in listing)}
        self.assertEqual(len(sizes), 3)
        for n, size in sizes.items():
            _, lines, octets = c.retr(n)
            self.assertEqual(octets, size, "LIST size must equal RETR octets (RFC 1939 §11)")
            self.assertEqual(c.list(n).split()[2], str(size).encode())
        c.quit()

    def test_retr_unstuffs_to_the_stored_message_with_crlf(self):
        c = self.client()
        for i, stored in enumerate(MESSAGES, start=1):
            _, lines, _ = c.retr(i)
            got = b"".join(line + b"\r\n" for line in lines)
            self.assertEqual(got, unstuffed_wire(stored))
        c.quit()

    def test_top_sends_headers_and_n_body_lines(self):
        c = self.client()
        _, lines, _ = c.top(2, 0)
        self.assertEqual(lines, [b"From: dave@example.org", b"Subject: dots and LF", b""])
        _, lines, _ = c.top(2, 2)
        self.assertEqual(lines[-2:], [b".starts with a dot", b"..two dots"])
        _, lines, _ = c.top(2, 1000)
        self.assertEqual(lines[-1], b"end")
        c.quit()

    def test_uidl_is_unique_and_well_formed(self):
        c = self.client()
        _, listing, _ = c.uidl()
        uids = [line.split()[1] for line in listing]
        self.assertEqual(len(uids), 3)
        self.assertEqual(len(set(uids)), 3)
        for uid in uids:
            self.assertTrue(1 <= len(uid) <= 70)
            self.assertTrue(all(0x21 <= b <= 0x7E for b in uid))
        self.assertEqual(c.uidl(2).split()[2], uids[1])
        c.quit()

    def test_wrong_password_gets_auth_code_and_same_text_as_unknown_user(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        c.user("alice")
        with self.assertRaises(poplib.error_proto) as wrong:
            c.pass_("wrong")
        c.user("nobody-here")
        with self.assertRaises(poplib.error_proto) as unknown:
            c.pass_("secret")
        self.assertTrue(str(wrong.exception).startswith("b'-ERR [AUTH]"), wrong.exception)
        self.assertEqual(str(wrong.exception), str(unknown.exception))
        c.close()

    def test_dele_then_quit_removes_exactly_those_messages(self):
        c = self.client()
        c.dele(1)
        c.dele(3)
        with self.assertRaises(poplib.error_proto):
            c.dele(3)  # already deleted
        self.assertEqual(c.stat()[0], 1)
        c.quit()
        self.assertEqual(self.server.message_contents("alice"), [MSG_LF_DOTS])

    def test_dele_then_dropped_connection_deletes_nothing(self):
        c = self.client()
        c.dele(1)
        c.dele(2)
        c.file.close()  # no QUIT: no UPDATE state (RFC 1939 §6)
        c.sock.close()
        c2 = self.retry_login()
        self.assertEqual(c2.stat()[0], 3)
        c2.quit()
        self.assertEqual(self.server.message_contents("alice"), sorted(MESSAGES))

    def retry_login(self):
        # The server may need a moment to notice the dropped connection and release the lock.
        import time
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.client()
            except poplib.error_proto as e:
                if b"[IN-USE]" not in e.args[0] or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def test_rset_unmarks_deletions(self):
        c = self.client()
        c.dele(1)
        c.rset()
        self.assertEqual(c.stat()[0], 3)
        c.quit()
        self.assertEqual(len(self.server.message_files("alice")), 3)

    def test_second_login_gets_in_use(self):
        c = self.client()
        c2 = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        c2.user("alice")
        with self.assertRaises(poplib.error_proto) as e:
            c2.pass_("secret")
        self.assertIn(b"[IN-USE]", e.exception.args[0])
        c2.close()
        c.quit()
        c3 = self.client()  # the lock is released after QUIT
        c3.quit()

    def test_capa_before_and_after_login(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        before = c.capa()
        for tag in ("TOP", "UIDL", "RESP-CODES", "PIPELINING", "USER", "EXPIRE"):
            self.assertIn(tag, before)
        self.assertNotIn("IMPLEMENTATION", before)
        c.user("alice")
        c.pass_("secret")
        after = c.capa()
        self.assertIn("IMPLEMENTATION", after)
        for tag in before:
            self.assertIn(tag, after, "capabilities of AUTHORIZATION must stay (RFC 2449 §5)")
        c.quit()

    def test_noop_and_wrong_state_commands(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        with self.assertRaises(poplib.error_proto):
            c.stat()  # TRANSACTION command in AUTHORIZATION
        c.user("alice")
        c.pass_("secret")
        self.assertTrue(c.noop().startswith(b"+OK"))
        with self.assertRaises(poplib.error_proto):
            c.user("alice")  # AUTHORIZATION command in TRANSACTION
        with self.assertRaises(poplib.error_proto):
            c.retr(99)
        c.quit()

    def test_uidls_survive_restart_and_index_loss(self):
        c = self.client()
        first = c.uidl()[1]
        c.quit()
        self.server.restart()
        c = self.client()
        self.assertEqual(c.uidl()[1], first)
        c.quit()
        self.server.stop()
        index = os.path.join(self.server.maildir("alice"), "poplar-index")
        if os.path.exists(index):
            os.unlink(index)
        self.server.start()
        c = self.client()
        self.assertEqual(c.uidl()[1], first)
        c.quit()

    def test_logs_one_line_per_event_without_secrets(self):
        c = self.client()
        c.retr(1)
        c.quit()
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        c.user("alice")
        with self.assertRaises(poplib.error_proto):
            c.pass_("TopSecretGuess")
        c.close()
        self.server.stop()
        log = self.server.log_text()
        self.assertNotIn("TopSecretGuess", log)
        self.assertNotIn("secret", log.replace("-secret", ""))
        login = [l for l in log.splitlines() if " login " in f" {l.split(': ', 1)[-1]} "]
        self.assertTrue(any("user=alice" in l and "rip=127.0.0.1" in l for l in login), log)
        self.assertTrue(any("auth-failed" in l and "user=alice" in l for l in log.splitlines()))
        self.assertTrue(any("disconnect" in l and "retr=1/" in l for l in log.splitlines()), log)


class HashedPasswordTest(unittest.TestCase):
    def test_sha512_crypt_and_argon2id_users_log_in(self):
        users = {"bob": poplar_hash("bob pw", "SHA512-CRYPT"),
                 "eve": poplar_hash("eve pw", "ARGON2ID")}
        with PoplarServer(users=users, mailboxes={"bob": [MSG_CRLF], "eve": []}) as server:
            for name in ("bob", "eve"):
                c = poplib.POP3("127.0.0.1", server.port, timeout=30)
                c.user(name)
                c.pass_(name + " pw")  # a password with a space (PASS takes the rest of line)
                self.assertEqual(c.stat()[0], 1 if name == "bob" else 0)
                c.quit()


class ApopTest(unittest.TestCase):
    def test_apop_login_when_enabled(self):
        with PoplarServer(auth_extra="apop = true") as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            self.assertRegex(c.getwelcome(), rb"<[^>]+@[^>]+>")
            c.apop("alice", "secret")
            self.assertEqual(c.stat()[0], 1)
            c.quit()

    def test_apop_refused_when_disabled(self):
        with PoplarServer() as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            self.assertNotRegex(c.getwelcome(), rb"<[^>]+@[^>]+>")
            c.close()


class BigMessageTest(unittest.TestCase):
    def test_retr_of_a_large_message_is_exact(self):
        with PoplarServer(mailboxes={"alice": [MSG_BIG]}) as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=30)
            c.user("alice")
            c.pass_("secret")
            size = int(c.list(1).split()[2])
            _, lines, octets = c.retr(1)
            self.assertEqual(size, wire_size(MSG_BIG))
            self.assertEqual(octets, size)
            c.quit()


class Utf8HeadersTest(unittest.TestCase):
    """RFC 6856 §2.1/§5 with [pop3] utf8_headers = "refuse": -ERR [UTF8] until UTF8."""

    MSG_UTF8_HEADER = "Subject: Grüße aus Köln\r\nFrom: jörg@example.org\r\n\r\nHallo\r\n".encode()

    def test_refused_without_utf8_and_sent_whole_after_it(self):
        with PoplarServer(mailboxes={"alice": [self.MSG_UTF8_HEADER, MSG_CRLF]},
                          pop3_extra='utf8_headers = "refuse"') as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            c.user("alice")
            c.pass_("secret")
            with self.assertRaises(poplib.error_proto) as e:
                c.retr(1)
            self.assertTrue(str(e.exception).startswith("b'-ERR [UTF8]"), e.exception)
            self.assertEqual(b"\r\n".join(c.retr(2)[1]) + b"\r\n", MSG_CRLF)  # ASCII: fine
            c.quit()
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            self.assertIn("UTF8", c.capa())
            c.utf8()
            c.user("alice")
            c.pass_("secret")
            _, lines, octets = c.retr(1)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", self.MSG_UTF8_HEADER)
            c.quit()


if __name__ == "__main__":
    unittest.main()
