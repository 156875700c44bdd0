"""`poplar fetch -c FILE [ACCOUNT...]`: accounts from a TOML file ([defaults] and [[account]]
tables), run in parallel, each with its own password source (file, command, environment), its
own target and its own state; the combined exit code; and the file's errors, reported with
their lines before anything is fetched. docs/fetch.md "The account file"."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import MSG_BIG, MSG_CRLF, MSG_LF_DOTS, POPLAR_BIN
from test_fetch import stored_form
from test_tls import TlsServer

ALICE = [MSG_CRLF, MSG_LF_DOTS]
BOB = [MSG_BIG, MSG_CRLF]


class FetchAccountsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = TlsServer(users={"alice": "{PLAIN}secret", "bob": "{PLAIN}bobpass"},
                               mailboxes={"alice": ALICE, "bob": BOB}).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poplar-accounts-")
        with open(os.path.join(self.dir, "bob.pass"), "w") as f:
            f.write("bobpass\n")
        self.env = dict(os.environ, XDG_STATE_HOME=os.path.join(self.dir, "state"),
                        XDG_CONFIG_HOME=os.path.join(self.dir, "config"))
        self.env.pop("POPLAR_PASSWORD", None)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_file(self, text, name="fetch.toml"):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def two_accounts(self):
        port = self.server.stls_port
        return self.write_file(f"""
[defaults]
ca_file = "{self.server.cert}"
timeout_s = 20

[[account]]
name = "alice"
url = "pop://alice@127.0.0.1:{port}"
password_command = "printf 'secret\\\\n'"
target = "maildir:alice-mail"

[[account]]
name = "bob"
url = "pop://127.0.0.1:{port}"
user = "bob"
password_file = "bob.pass"
target = "mbox:bob.mbox"
""")

    def fetch(self, *args, env=None):
        return subprocess.run([POPLAR_BIN, "fetch", *args], capture_output=True, text=True,
                              timeout=120, env=env or self.env)

    def maildir(self, name):
        new = os.path.join(self.dir, name, "new")
        return sorted(open(os.path.join(new, n), "rb").read() for n in os.listdir(new))

    def test_every_account_is_fetched_into_its_own_target_then_nothing_new(self):
        path = self.two_accounts()
        first = self.fetch("-c", path)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("alice: 2 new, 0 deleted, 0 errors", first.stdout)
        self.assertIn("bob: 2 new, 0 deleted, 0 errors", first.stdout)
        self.assertEqual(self.maildir("alice-mail"), sorted(stored_form(m) for m in ALICE))
        with open(os.path.join(self.dir, "bob.mbox"), "rb") as f:
            mbox = f.read()
        self.assertEqual(mbox.count(b"\nFrom ") + mbox.startswith(b"From "), 2)
        # Each account has its own state file under XDG_STATE_HOME.
        states = os.listdir(os.path.join(self.dir, "state", "poplar", "fetch"))
        self.assertEqual(len([s for s in states if s.endswith(".state")]), 2, states)
        again = self.fetch("-c", path)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("alice: 0 new", again.stdout)
        self.assertIn("bob: 0 new", again.stdout)

    def test_named_accounts_only_and_the_default_file(self):
        self.write_file(open(self.two_accounts()).read(), name="config/poplar/fetch.toml")
        shutil.copy(os.path.join(self.dir, "bob.pass"), os.path.join(self.dir, "config", "poplar"))
        # The default file's relative targets resolve against its own directory.
        only_bob = self.fetch("bob")
        self.assertEqual(only_bob.returncode, 0, only_bob.stderr)
        self.assertNotIn("alice", only_bob.stdout)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "config", "poplar", "bob.mbox")))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "config", "poplar", "alice-mail")))
        unknown = self.fetch("carol")
        self.assertEqual(unknown.returncode, 64)
        self.assertIn('no account named "carol"', unknown.stderr)

    def test_accounts_run_in_parallel_and_a_hung_server_holds_up_only_its_own(self):
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts (in the kernel) and never says a word
        try:
            path = self.write_file(open(self.two_accounts()).read() + f"""
[[account]]
name = "silent"
url = "pop://carol@127.0.0.1:{silent.getsockname()[1]}"
password_command = "echo x"
target = "maildir:silent-mail"
timeout_s = 3
""")
            start = time.monotonic()
            result = self.fetch("-c", path, "-q")
            elapsed = time.monotonic() - start
        finally:
            silent.close()
        # The hung account costs its timeout, and ends the run with EX_TEMPFAIL; the others
        # were fetched meanwhile.
        self.assertEqual(result.returncode, 75, result.stderr)
        self.assertIn("silent:", result.stderr)
        self.assertEqual(result.stdout, "")  # -q
        self.assertEqual(len(self.maildir("alice-mail")), 2)
        self.assertLess(elapsed, 15)

    def test_a_failure_that_needs_a_person_beats_a_temporary_one(self):
        path = self.two_accounts()
        # bob with a wrong password (77) and alice with a password command that asks to retry
        # later (75): the run ends 77, the failure cron must show to a person.
        text = open(path).read().replace("printf 'secret\\\\n'", "exit 75")
        with open(os.path.join(self.dir, "bob.pass"), "w") as f:
            f.write("wrong\n")
        with open(path, "w") as f:
            f.write(text)
        result = self.fetch("-c", path)
        self.assertEqual(result.returncode, 77, result.stderr)
        self.assertIn("alice: password_command `exit 75` failed (exit 75)", result.stderr)
        self.assertNotIn("wrong", result.stdout + result.stderr)

    def test_file_errors_are_reported_with_lines_before_anything_runs(self):
        path = self.write_file("""
[[account]]
name = "a"
url = "http://example.org"
target = "maildir:m"
password = "hunter2"
keep = false
keep_days = 3
""")
        result = self.fetch("-c", path)
        self.assertEqual(result.returncode, 78, result.stderr)
        self.assertIn("fetch.toml:4: [[account]] url:", result.stderr)
        self.assertIn("fetch.toml:6: [[account]] password: passwords do not go in this file",
                      result.stderr)
        self.assertIn("fetch.toml:8: [[account]] keep_days: contradicts keep = false",
                      result.stderr)
        self.assertNotIn("hunter2", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "m")))
        missing = self.fetch("-c", os.path.join(self.dir, "none.toml"))
        self.assertEqual(missing.returncode, 78)
        self.assertIn("none.toml", missing.stderr)
        no_default = self.fetch()
        self.assertEqual(no_default.returncode, 78)
        self.assertIn("give a URL", no_default.stderr)

    def test_account_options_on_the_command_line_are_refused_with_a_file(self):
        path = self.two_accounts()
        result = self.fetch("-c", path, "--delete", "--to", "maildir:x")
        self.assertEqual(result.returncode, 64)
        self.assertIn("--to, --delete: with an account file these are keys", result.stderr)

    def test_password_from_the_environment_when_the_file_names_no_source(self):
        port = self.server.stls_port
        path = self.write_file(f"""
[[account]]
name = "env"
url = "pop://alice@127.0.0.1:{port}"
ca_file = "{self.server.cert}"
target = "maildir:env-mail"
""")
        no_password = self.fetch("-c", path)
        self.assertEqual(no_password.returncode, 78, no_password.stderr)
        self.assertIn("POPLAR_PASSWORD", no_password.stderr)
        with_env = self.fetch("-c", path, env=dict(self.env, POPLAR_PASSWORD="secret"))
        self.assertEqual(with_env.returncode, 0, with_env.stderr)
        self.assertEqual(len(self.maildir("env-mail")), 2)


if __name__ == "__main__":
    unittest.main()
