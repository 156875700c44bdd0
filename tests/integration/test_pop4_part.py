"""POP4 PART (POP4.md "Part commands", docs/pop4.md) on a real `poplar serve`, driven by
Python's poplib: the structure listing, every section's body byte for byte against the bytes
as stored, the MIME header variant, the errors, and CAPA with [pop4] enabled and disabled.

The expected parts are written down here from the pieces the messages are built of, not taken
from the server or from Poplar's MIME code.
"""

import base64
import poplib
import unittest

from harness import MSG_CRLF, PoplarServer, unstuffed_wire, wire_size

# A multipart/mixed message as an MDA writes it (LF line ends): a multipart/alternative (plain
# text with a line starting with "." and UTF-8 text, and HTML) and a base64 PDF attachment.
# RFC 2046 §5.1.1: the line end before a delimiter belongs to the delimiter, so each part's
# body below ends without one and the server adds the CRLF on the wire.
PLAIN_HEADER = b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
PLAIN_BODY = (b"Hello Alice,\n.this line starts with a dot\n..and this with two\n\n"
              b"the report is attached.\nGr\xc3\xbc\xc3\x9fe")
HTML_HEADER = b"Content-Type: text/html; charset=utf-8\n\n"
HTML_BODY = b"<p>Hello Alice,</p>\n<p>the report is attached.</p>"
PDF_BYTES = bytes((i * 7 + 3) % 256 for i in range(30000))
PDF_HEADER = (b"Content-Type: application/pdf; name=\"Q3 report.pdf\"\n"
              b"Content-Disposition: attachment; filename=\"Q3 report.pdf\"\n"
              b"Content-Transfer-Encoding: base64\n\n")
PDF_BODY = base64.encodebytes(PDF_BYTES).rstrip(b"\n")  # 76-character lines

MIXED = (b"From: Carol <carol@example.org>\n"
         b"To: alice@example.org\n"
         b"Subject: the Q3 report\n"
         b"MIME-Version: 1.0\n"
         b"Content-Type: multipart/mixed; boundary=\"=_outer\"\n"
         b"\n"
         b"This is a multi-part message in MIME format.\n"
         b"--=_outer\n"
         b"Content-Type: multipart/alternative; boundary=inner\n"
         b"\n"
         b"--inner\n" + PLAIN_HEADER + PLAIN_BODY + b"\n"
         b"--inner\n" + HTML_HEADER + HTML_BODY + b"\n"
         b"--inner--\n"
         b"\n"
         b"--=_outer\n" + PDF_HEADER + PDF_BODY + b"\n"
         b"--=_outer--\n")
MIXED_CRLF = MIXED.replace(b"\n", b"\r\n")

# section -> (type, stored header, stored body, name)
MIXED_PARTS = {
    "1.1": ("text/plain", PLAIN_HEADER, PLAIN_BODY, None),
    "1.2": ("text/html", HTML_HEADER, HTML_BODY, None),
    "2": ("application/pdf", PDF_HEADER, PDF_BODY, "Q3 report.pdf"),
}

SIMPLE_HEADER, SIMPLE_BODY = MSG_CRLF.split(b"\r\n\r\n", 1)
SIMPLE_HEADER += b"\r\n\r\n"

# A big attachment, streamed without the server holding the message.
BIG_PAYLOAD = bytes((i * 31 + 17) % 256 for i in range(3 * 1024 * 1024))
BIG_BODY = base64.encodebytes(BIG_PAYLOAD).rstrip(b"\n")
BIG = (b"Subject: big\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nsee attached\n--b\n"
       b"Content-Type: application/octet-stream; name=big.bin\n"
       b"Content-Transfer-Encoding: base64\n\n" + BIG_BODY + b"\n--b--\n")

MESSAGES = [MIXED, MIXED_CRLF, MSG_CRLF, BIG]


def crlf(stored: bytes) -> bytes:
    return stored.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Pop4PartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = PoplarServer(mailboxes={"alice": list(MESSAGES)}).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def client(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=30)
        c.user("alice")
        c.pass_("secret")
        return c

    def part(self, c, command):
        """A multi-line PART reply: the octets announced, the un-stuffed bytes, poplib's count."""
        resp, lines, octets = c._longcmd(command)
        self.assertRegex(resp, rb"^\+OK \d+$")
        return int(resp.split()[1]), b"".join(line + b"\r\n" for line in lines), octets

    def assert_sends(self, c, command, stored):
        announced, data, octets = self.part(c, command)
        self.assertEqual(data, unstuffed_wire(stored), command)
        self.assertEqual(announced, wire_size(stored), command)
        self.assertEqual(octets, announced, command + ": the client keeps exactly what +OK said")

    def test_capa_lists_x_pop4_parts_before_and_after_login(self):
        # [pop4] enabled offers every ability, in POP4.md's order.
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        self.assertEqual(c.capa().get("X-POP4"), ["FOLDERS", "FLAGS", "PARTS"])
        c.user("alice")
        c.pass_("secret")
        self.assertEqual(c.capa().get("X-POP4"), ["FOLDERS", "FLAGS", "PARTS"])
        c.quit()

    def test_listing_gives_sections_types_wire_octets_and_names(self):
        c = self.client()
        for n in (1, 2):  # LF- and CRLF-stored: the same listing, octets counted as CRLF
            resp, lines, _ = c._longcmd("PART %d" % n)
            self.assertEqual(resp, b"+OK 3 parts")
            expected = []
            for section, (ctype, _, body, name) in MIXED_PARTS.items():
                line = "%s %s %d" % (section, ctype, wire_size(body))
                if name:
                    line += ' "%s"' % name
                expected.append(line.encode())
            self.assertEqual(lines, expected)
        c.quit()

    def test_every_section_is_its_body_as_stored(self):
        c = self.client()
        for n, convert in ((1, lambda b: b), (2, crlf)):
            for section, (_, _, body, _) in MIXED_PARTS.items():
                self.assert_sends(c, "PART %d %s" % (n, section), convert(body))
        # Still in its Content-Transfer-Encoding: the attachment decodes to the original bytes.
        _, data, _ = self.part(c, "PART 1 2")
        self.assertEqual(base64.decodebytes(data), PDF_BYTES)
        c.quit()

    def test_mime_sends_the_parts_header_lines(self):
        c = self.client()
        for section, (_, header, _, _) in MIXED_PARTS.items():
            self.assert_sends(c, "PART 1 %s MIME" % section, header)
            self.assert_sends(c, "PART 2 %s mime" % section, crlf(header))
        c.quit()

    def test_single_part_message_is_section_one(self):
        c = self.client()
        resp, lines, _ = c._longcmd("PART 3")
        self.assertEqual((resp, lines), (b"+OK 1 part", [b"1 text/plain %d" % len(SIMPLE_BODY)]))
        self.assert_sends(c, "PART 3 1", SIMPLE_BODY)
        self.assert_sends(c, "PART 3 1 MIME", SIMPLE_HEADER)  # the message's own header
        c.quit()

    def test_big_attachment_byte_for_byte(self):
        c = self.client()
        resp, lines, _ = c._longcmd("PART 4")
        self.assertEqual(lines, [b"1 text/plain 14",
                                 b'2 application/octet-stream %d "big.bin"' % wire_size(BIG_BODY)])
        self.assert_sends(c, "PART 4 2", BIG_BODY)
        self.assert_sends(c, "PART 4 1", b"see attached")
        c.quit()

    def test_errors_leave_the_session_as_it_was(self):
        c = self.client()
        stat = c.stat()
        for command, answer in [
                ("PART 9", b"-ERR No such message."),
                ("PART 0", b"-ERR Invalid message number."),
                ("PART 1 3", b"-ERR No such part."),
                ("PART 1 1", b"-ERR No such part."),  # 1 is a multipart: only its parts are
                ("PART 1 1.3 MIME", b"-ERR No such part."),
                ("PART 1 1.x", b"-ERR Invalid section."),
                ("PART 1 2 HEADER", b"-ERR Invalid argument."),
                ("PART 1 2 MIME more", b"-ERR Too many arguments."),
                ("PART", b"-ERR Missing argument.")]:
            with self.assertRaises(poplib.error_proto) as e:
                c._shortcmd(command)
            self.assertEqual(e.exception.args[0], answer, command)
            self.assertEqual(c.stat(), stat, command)
        c.dele(1)
        with self.assertRaises(poplib.error_proto) as e:
            c._shortcmd("PART 1")
        self.assertEqual(e.exception.args[0], b"-ERR No such message.")
        c.rset()
        self.assertEqual(self.part(c, "PART 1 2")[0], wire_size(PDF_BODY))
        c.quit()
        self.assertEqual(len(self.server.message_files("alice")), len(MESSAGES))

    def test_fifty_megabytes_in_ten_thousand_parts_is_refused_and_the_session_goes_on(self):
        # Issue 6 "Bad input": PART on a 50 MB message with 10,000 parts is a clear -ERR (over
        # the 1,000-part limit), nothing changes, and the session and the server carry on.
        piece = b"x" * 5000 + b"\n"
        huge = b"Subject: many\nContent-Type: multipart/mixed; boundary=p\n\n" + b"".join(
            b"--p\nContent-Type: text/plain\n\n" + piece for _ in range(10000)) + b"--p--\n"
        self.assertGreater(len(huge), 50_000_000)
        server = PoplarServer(users={"bob": "{PLAIN}secret"},
                              mailboxes={"bob": [huge, MSG_CRLF]}).start()
        try:
            c = poplib.POP3("127.0.0.1", server.port, timeout=60)
            c.user("bob")
            c.pass_("secret")
            with self.assertRaises(poplib.error_proto) as e:
                c._shortcmd("PART 1")
            self.assertTrue(e.exception.args[0].startswith(b"-ERR [SYS/PERM]"), e.exception.args)
            self.assertEqual(c.stat(), (2, wire_size(huge) + wire_size(MSG_CRLF)))
            self.assertEqual(self.part(c, "PART 2 1")[0], wire_size(SIMPLE_BODY))
            c.quit()
            self.assertEqual(len(server.message_files("bob")), 2)
        finally:
            server.cleanup()

    def test_part_before_login_is_refused(self):
        c = poplib.POP3("127.0.0.1", self.server.port, timeout=10)
        with self.assertRaises(poplib.error_proto) as e:
            c._shortcmd("PART 1")
        self.assertEqual(e.exception.args[0], b"-ERR Command not valid in this state.")
        c.quit()


class Pop4DisabledTest(unittest.TestCase):
    def test_no_x_pop4_and_part_is_an_unknown_command(self):
        with PoplarServer(mailboxes={"alice": [MIXED]},
                          config_extra="[pop4]\nenabled = false\n") as server:
            c = poplib.POP3("127.0.0.1", server.port, timeout=10)
            self.assertNotIn("X-POP4", c.capa())
            with self.assertRaises(poplib.error_proto) as before:
                c._shortcmd("PART 1")
            c.user("alice")
            c.pass_("secret")
            self.assertNotIn("X-POP4", c.capa())
            with self.assertRaises(poplib.error_proto) as after:
                c._shortcmd("PART 1 1")
            for e in (before, after):
                self.assertEqual(e.exception.args[0], b"-ERR Unknown command.")
            self.assertEqual(c.retr(1)[2], wire_size(MIXED))  # POP3 itself is unchanged
            c.quit()


if __name__ == "__main__":
    unittest.main()
