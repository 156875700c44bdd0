"""curl as an independent POP3 client (h11's cross-check habit): listing, retrieval, DELE."""

import os
import shutil
import subprocess
import unittest

from harness import MSG_CRLF, MSG_LF_DOTS, PoplarServer, unstuffed_wire


def require(tool):
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            raise AssertionError(f"{tool} is missing: scripts/install-deps must install it")
        raise unittest.SkipTest(f"{tool} not installed")


class CurlTest(unittest.TestCase):
    def setUp(self):
        require("curl")
        self.server = PoplarServer(mailboxes={"alice": [MSG_CRLF, MSG_LF_DOTS]}).start()
        self.base = f"pop3://alice:secret@127.0.0.1:{self.server.port}"

    def tearDown(self):
        self.server.cleanup()

    def curl(self, *args):
        return subprocess.run(["curl", "-sS", "--max-time", "20", *args], capture_output=True,
                              timeout=30)

    def test_curl_lists_messages(self):
        out = self.curl(self.base + "/")
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.decode().split("\r\n")
        self.assertEqual(lines[0].split()[0], "1")
        self.assertEqual(lines[1].split()[0], "2")

    def test_curl_retrieves_messages_exactly(self):
        for n, stored in ((1, MSG_CRLF), (2, MSG_LF_DOTS)):
            out = self.curl(f"{self.base}/{n}")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout, unstuffed_wire(stored))

    def test_curl_dele_removes_the_message(self):
        out = self.curl("-X", "DELE", "-I", f"{self.base}/1")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.server.message_contents("alice"), [MSG_LF_DOTS])

    def test_curl_wrong_password_fails(self):
        out = self.curl(f"pop3://alice:nope@127.0.0.1:{self.server.port}/")
        self.assertNotEqual(out.returncode, 0)


if __name__ == "__main__":
    unittest.main()
