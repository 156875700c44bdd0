"""The private Dovecot of tests/integration/dovecot.py works: the reference server for the
`poplar fetch` tests (issue 5) really serves the mail it was given, over STLS and implicit TLS,
with the SASL mechanisms it was told to offer. If these fail, a fetch test failing against
Dovecot says nothing about `poplar fetch`."""

import poplib
import ssl
import unittest

from dovecot import DovecotServer
from harness import MSG_CRLF, MSG_LF_DOTS, unstuffed_wire


class DovecotHarnessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = DovecotServer(users={"alice": "{PLAIN}secret"},
                                   mailboxes={"alice": [MSG_CRLF, MSG_LF_DOTS]}).start()
        cls.tls = ssl.create_default_context(cafile=cls.server.cert)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_stls_then_user_pass_retrieves_the_messages(self):
        box = poplib.POP3("127.0.0.1", self.server.port, timeout=30)
        self.assertIn("STLS", box.capa())
        box.stls(context=self.tls)
        box.user("alice")
        box.pass_("secret")
        count, _ = box.stat()
        self.assertEqual(count, 2)
        got = sorted(b"\r\n".join(box.retr(i)[1]) + b"\r\n" for i in (1, 2))
        box.quit()
        want = sorted(unstuffed_wire(m) for m in (MSG_CRLF, MSG_LF_DOTS))
        self.assertEqual(got, want)

    def test_implicit_tls_offers_the_sasl_mechanisms(self):
        box = poplib.POP3_SSL("127.0.0.1", self.server.tls_port, context=self.tls, timeout=30)
        sasl = box.capa().get("SASL", [])
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"):
            self.assertIn(mech, sasl)
        box.user("alice")
        box.pass_("secret")
        self.assertEqual(box.stat()[0], 2)
        box.quit()

    # (Dovecot counts a connection from the server's own address as secure, so it accepts
    # plaintext logins on loopback even with disable_plaintext_auth: that `poplar fetch` still
    # refuses to send a password without TLS is the client's own rule, tested there.)


if __name__ == "__main__":
    unittest.main()
