"""`poplar fetch` with POP4 folders (POP4.md, docs/fetch.md "POP4 folders"): --folder,
--move-to, --list-folders and the account file's `folder` and `move_to` keys, end to end;
last, the same against the real `poplar serve` (AgainstPoplarServe).

Against tests/integration/fake_pop3.py: servers with and without "X-POP4 FOLDERS" (and without
CAPA at all), SFLD -ERR, the MOVE sequence (deliver, record, then MOVE, removed at QUIT), LFLD
with quoted names and a broken LFLD line, and the per-folder state files. What is checked is
what a user sees: the exit code, stderr, every delivered message, what is left in each folder,
and that a refused run sent nothing but QUIT after logging in. Plain unittest, discovered by
run.py.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from fake_pop3 import FakePop3
from harness import POPLAR_BIN, PoplarServer

INBOX = [b"Subject: in 1\r\n\r\nfirst in the inbox\r\n",
         b"Subject: in 2\r\n\r\n.dotted\r\nsecond in the inbox\r\n"]
ARCHIVE = [b"Subject: old 1\r\n\r\narchived one\r\n",
           b"Subject: old 2\r\n\r\narchived two\r\n",
           b"Subject: old 3\r\n\r\narchived three\r\n"]
FOLDERS = {"Archive": ARCHIVE, "Old Mail": []}

EX_OK, EX_USAGE, EX_PROTOCOL, EX_CONFIG = 0, 64, 76, 78

# The commands a client may send after logging in without changing anything.
HARMLESS = {"CAPA", "QUIT", "STAT", "UIDL", "LIST", "NOOP", "SFLD", "LFLD"}


def stored(message):
    return message.replace(b"\r\n", b"\n")


class FetchPop4Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poplar-fetch-pop4-")
        self.maildir = os.path.join(self.dir, "Mail")
        self.env = dict(os.environ, POPLAR_PASSWORD="secret",
                        XDG_STATE_HOME=os.path.join(self.dir, "state"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def serve(self, messages=INBOX, **personality):
        server = FakePop3([bytes(m) for m in messages], **personality).start()
        self.addCleanup(server.stop)
        return server

    def url(self, server):
        return "pop://alice@127.0.0.1:%d" % server.port

    def fetch(self, server, *extra, to=True):
        cmd = [POPLAR_BIN, "fetch", self.url(server), "--insecure-plaintext", "--timeout", "10"]
        if to:
            cmd += ["--to", "maildir:" + self.maildir]
        return subprocess.run(cmd + list(extra), capture_output=True, text=True, env=self.env,
                              timeout=60)

    def delivered(self):
        new = os.path.join(self.maildir, "new")
        if not os.path.isdir(new):
            return []
        return sorted(open(os.path.join(new, n), "rb").read() for n in os.listdir(new))

    def assert_exit(self, result, code):
        self.assertEqual(result.returncode, code,
                         "stdout: %s\nstderr: %s" % (result.stdout, result.stderr))

    def assert_nothing_changed(self, server, inbox=INBOX, folders=FOLDERS):
        """Only harmless commands after login, and every folder as it was."""
        names = server.command_names()
        after_login = names[names.index("PASS") + 1:] if "PASS" in names else []
        self.assertTrue(set(after_login) <= HARMLESS, names)
        self.assertEqual(names[-1], "QUIT", names)
        self.assertEqual([m for _, m in server.remaining()], list(inbox))
        for name, messages in folders.items():
            self.assertEqual([m for _, m in server.folder_contents(name)], list(messages))
        self.assertEqual(server.errors, [])


class WithoutPop4Folders(FetchPop4Case):
    """Each option fails clearly, exits 78 and changes nothing, whatever the server lacks."""

    def check_refused(self, server, option_text, *args, to=True):
        result = self.fetch(server, *args, to=to)
        self.assert_exit(result, EX_CONFIG)
        self.assertIn(option_text, result.stderr)
        self.assertIn("does not offer POP4 folders", result.stderr)
        self.assertIn("X-POP4 FOLDERS", result.stderr)
        self.assertEqual(self.delivered(), [])
        self.assert_nothing_changed(server, folders={})

    def test_folder_needs_x_pop4_folders(self):
        server = self.serve()
        self.check_refused(server, "--folder Archive", "--folder", "Archive")
        self.assertNotIn("SFLD", server.command_names())

    def test_move_to_needs_x_pop4_folders(self):
        server = self.serve(pop4="PARTS FLAGS")  # X-POP4, but not FOLDERS
        self.check_refused(server, '--move-to "Old Mail"', "--move-to", "Old Mail", "--delete")
        self.assertNotIn("RETR", server.command_names())

    def test_list_folders_needs_x_pop4_folders_even_without_capa(self):
        server = self.serve(no_capa=True)
        self.check_refused(server, "--list-folders", "--list-folders", to=False)
        self.assertNotIn("LFLD", server.command_names())

    def test_folder_inbox_needs_nothing(self):
        server = self.serve()
        result = self.fetch(server, "--folder", "inbox")
        self.assert_exit(result, EX_OK)
        self.assertEqual(self.delivered(), sorted(stored(m) for m in INBOX))


class FolderFetch(FetchPop4Case):
    def test_folder_is_fetched_with_its_own_state(self):
        server = self.serve(pop4="FOLDERS FLAGS PARTS", folders=FOLDERS)
        result = self.fetch(server, "--folder", "Archive")
        self.assert_exit(result, EX_OK)
        self.assertIn("(Archive): 3 new, 0 deleted, 0 errors", result.stdout)
        self.assertEqual(self.delivered(), sorted(stored(m) for m in ARCHIVE))
        self.assertIn("SFLD Archive", server.commands)
        # INBOX has its own state (the URL's, as before folders existed): all of it is new.
        result = self.fetch(server)
        self.assert_exit(result, EX_OK)
        self.assertIn(": 2 new,", result.stdout)
        self.assertEqual(self.delivered(), sorted(stored(m) for m in INBOX + ARCHIVE))
        # And each remembers its own.
        for args in (("--folder", "Archive"), ()):
            result = self.fetch(server, *args)
            self.assert_exit(result, EX_OK)
            self.assertIn(": 0 new,", result.stdout)
        state = os.path.join(self.dir, "state", "poplar", "fetch")
        plain = "pop%3A%2F%2Falice@127.0.0.1%3A" + str(server.port)
        self.assertEqual(sorted(os.listdir(state)),
                         sorted([plain + ".state", plain + ".state.lock",
                                 plain + "%2FArchive.state", plain + "%2FArchive.state.lock"]))
        with open(os.path.join(state, plain + "%2FArchive.state")) as f:
            self.assertEqual(f.readline().split()[2], self.url(server) + "/Archive")
        self.assertEqual(len(server.folder_contents("Archive")), 3)

    def test_quoted_folder_name(self):
        server = self.serve(pop4="FOLDERS", folders={"Sent Items": ARCHIVE[:1]})
        result = self.fetch(server, "--folder", "Sent Items")
        self.assert_exit(result, EX_OK)
        self.assertIn('SFLD "Sent Items"', server.commands)
        self.assertEqual(self.delivered(), [stored(ARCHIVE[0])])

    def test_sfld_err_is_a_clear_error_that_changes_nothing(self):
        server = self.serve(pop4="FOLDERS", folders=FOLDERS)
        result = self.fetch(server, "--folder", "Nope", "--delete")
        self.assert_exit(result, EX_CONFIG)
        self.assertIn('the server refused to select folder "Nope" (SFLD): no such folder',
                      result.stderr)
        self.assertEqual(self.delivered(), [])
        names = server.command_names()
        self.assertEqual(names[names.index("SFLD"):], ["SFLD", "QUIT"])
        self.assert_nothing_changed(server)


class MoveTo(FetchPop4Case):
    def test_move_to_moves_what_would_be_deleted(self):
        server = self.serve(pop4="FOLDERS", folders=FOLDERS)
        result = self.fetch(server, "--move-to", "Old Mail", "--delete")
        self.assert_exit(result, EX_OK)
        self.assertIn(": 2 new, 2 moved to Old Mail, 0 errors", result.stdout)
        self.assertEqual(self.delivered(), sorted(stored(m) for m in INBOX))
        self.assertEqual(server.remaining(), [])
        self.assertEqual([m for _, m in server.folder_contents("Old Mail")], INBOX)
        self.assertEqual([m for _, m in server.folder_contents("Archive")], ARCHIVE)
        names = server.command_names()
        self.assertNotIn("DELE", names)
        # Each MOVE after its message's RETR (delivered and recorded first), QUIT last.
        for n in (1, 2):
            self.assertLess(server.commands.index("RETR %d" % n),
                            server.commands.index('MOVE %d "Old Mail"' % n))
        self.assertEqual(names[-1], "QUIT")
        # Nothing left to fetch, and the state forgot what left the inbox.
        result = self.fetch(server, "--move-to", "Old Mail", "--delete")
        self.assert_exit(result, EX_OK)
        self.assertIn(": 0 new, 0 moved to Old Mail", result.stdout)

    def test_folder_and_move_to_together(self):
        server = self.serve(pop4="FOLDERS", folders=FOLDERS)
        result = self.fetch(server, "--folder", "Archive", "--move-to", "INBOX", "--keep-days",
                            "0")
        self.assert_exit(result, EX_OK)
        self.assertIn("(Archive): 3 new, 3 moved to INBOX", result.stdout)
        self.assertEqual(server.folder_contents("Archive"), [])
        self.assertEqual([m for _, m in server.remaining()], INBOX + ARCHIVE)

    def test_refused_before_connecting(self):
        server = self.serve(pop4="FOLDERS", folders=FOLDERS)
        cases = [
            (("--move-to", "Archive"), "--keep deletes nothing"),
            (("--move-to", "Archive", "--keep"), "--keep deletes nothing"),
            (("--move-to", "inbox", "--delete"), "that is the folder being fetched (INBOX)"),
            (("--folder", "Archive", "--move-to", "Archive", "--delete"),
             "that is the folder being fetched (--folder Archive)"),
            (("--folder", "a//b"), "empty level"),
            (("--move-to", "Caf\u00e9", "--delete"), "must be ASCII"),
        ]
        for args, message in cases:
            result = self.fetch(server, *args)
            self.assert_exit(result, EX_USAGE)
            self.assertIn(message, result.stderr)
        self.assertEqual(server.connections, 0)


class ListFolders(FetchPop4Case):
    def test_lists_folders_one_a_line_with_counts(self):
        server = self.serve(pop4="FOLDERS", folders=FOLDERS)
        result = self.fetch(server, "--list-folders", to=False)
        self.assert_exit(result, EX_OK)
        inbox_octets = sum(len(m) for m in INBOX) + 1  # ".dotted" is stuffed on the wire
        rows = [line.split(None, 2) for line in result.stdout.splitlines()]
        self.assertEqual(rows, [["2", str(inbox_octets), "INBOX"],
                                ["3", str(sum(len(m) for m in ARCHIVE)), "Archive"],
                                ["0", "0", "Old Mail"]])
        self.assertEqual(server.command_names()[-2:], ["LFLD", "QUIT"])
        self.assertEqual(self.delivered(), [])
        self.assertFalse(os.path.exists(os.path.join(self.dir, "state")))

    def test_quoted_names_with_escapes_are_shown_unquoted(self):
        lines = ['INBOX 2 100', '"Sent Items" 1 20', r'"say \"hi\" \\o/"  3  40',
                 '.hidden 0 0', 'Caf\u00e9 1 1']
        server = self.serve(pop4="FOLDERS", lfld_lines=lines)
        result = self.fetch(server, "--list-folders", to=False)
        self.assert_exit(result, EX_OK)
        self.assertEqual([line.split(None, 2)[2] for line in result.stdout.splitlines()],
                         ["INBOX", "Sent Items", 'say "hi" \\\\o/', ".hidden", "Caf\\xe9"])

    def test_bad_lfld_line_is_a_protocol_error(self):
        server = self.serve(pop4="FOLDERS", lfld_lines=["INBOX 2 100", '"Sent Items 1 20'])
        result = self.fetch(server, "--list-folders", to=False)
        self.assert_exit(result, EX_PROTOCOL)
        self.assertIn("bad LFLD line (the quoted folder name does not end)", result.stderr)
        self.assertEqual(result.stdout, "")

    def test_fetch_options_do_not_apply(self):
        server = self.serve(pop4="FOLDERS")
        result = self.fetch(server, "--list-folders", "--delete")
        self.assert_exit(result, EX_USAGE)
        self.assertIn("--to, --delete", result.stderr)
        self.assertEqual(server.connections, 0)


class AccountFile(FetchPop4Case):
    def write_file(self, server):
        path = os.path.join(self.dir, "fetch.toml")
        with open(path, "w") as f:
            f.write("""
[defaults]
target = "maildir:Mail"
insecure_plaintext = true
timeout_s = 10
move_to = "Old Mail"

[[account]]
name = "archive"
url = "%s"
folder = "Archive"
keep = false
""" % self.url(server))
        return path

    def run_file(self, *args):
        return subprocess.run([POPLAR_BIN, "fetch", *args], capture_output=True, text=True,
                              env=self.env, timeout=60)

    def test_folder_and_move_to_keys(self):
        server = self.serve(pop4="FOLDERS", folders=FOLDERS)
        path = self.write_file(server)
        result = self.run_file("-c", path, "--list-folders", "archive")
        self.assert_exit(result, EX_OK)
        self.assertIn("Archive", result.stdout)
        result = self.run_file("-c", path)
        self.assert_exit(result, EX_OK)
        self.assertIn("archive (Archive): 3 new, 3 moved to Old Mail", result.stdout)
        self.assertEqual(server.folder_contents("Archive"), [])
        self.assertEqual([m for _, m in server.folder_contents("Old Mail")], ARCHIVE)
        self.assertEqual(self.delivered(), sorted(stored(m) for m in ARCHIVE))

    def test_folder_options_with_a_file_are_refused(self):
        server = self.serve(pop4="FOLDERS", folders=FOLDERS)
        result = self.run_file("-c", self.write_file(server), "--folder", "Archive")
        self.assert_exit(result, EX_USAGE)
        self.assertIn("--folder: with an account file", result.stderr)


class AgainstPoplarServe(unittest.TestCase):
    """The same options against the real `poplar serve` ([pop4] enabled, its default), whose
    Maildir gets a folder Archive (Maildir++ ".Archive")."""

    MESSAGES = [b"Subject: real 1\n\nfirst\n", b"Subject: real 2\n\n.dot line\nsecond\n"]

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="poplar-fetch-pop4-real-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.server = PoplarServer(mailboxes={"alice": list(self.MESSAGES)})
        self.archive = os.path.join(self.server.maildir("alice"), ".Archive")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.archive, sub))
        self.server.start()
        self.addCleanup(self.server.cleanup)
        self.env = dict(os.environ, POPLAR_PASSWORD="secret",
                        XDG_STATE_HOME=os.path.join(self.dir, "state"))

    def fetch(self, *args, to="Mail"):
        cmd = [POPLAR_BIN, "fetch", "pop://alice@127.0.0.1:%d" % self.server.port,
               "--insecure-plaintext", "--timeout", "20", *args]
        if to:
            cmd += ["--to", "maildir:" + os.path.join(self.dir, to)]
        result = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=60)
        self.assertEqual(result.returncode, EX_OK,
                         "stdout: %s\nstderr: %s" % (result.stdout, result.stderr))
        return result

    def folder_contents(self, path):
        return sorted(open(os.path.join(path, sub, n), "rb").read()
                      for sub in ("new", "cur") for n in os.listdir(os.path.join(path, sub)))

    def test_move_to_archive_then_fetch_archive(self):
        result = self.fetch("--move-to", "Archive", "--delete")
        self.assertIn(": 2 new, 2 moved to Archive, 0 errors", result.stdout)
        self.assertEqual(self.folder_contents(os.path.join(self.dir, "Mail")),
                         sorted(self.MESSAGES))
        self.assertEqual(self.server.message_files("alice"), [])
        self.assertEqual(self.folder_contents(self.archive), sorted(self.MESSAGES))
        rows = [line.split(None, 2) for line in
                self.fetch("--list-folders", to=None).stdout.splitlines()]
        self.assertEqual([(r[2], r[0]) for r in rows], [("INBOX", "0"), ("Archive", "2")])
        result = self.fetch("--folder", "Archive", to="Archived")
        self.assertIn("(Archive): 2 new, 0 deleted", result.stdout)
        self.assertEqual(self.folder_contents(os.path.join(self.dir, "Archived")),
                         sorted(self.MESSAGES))
        self.assertIn("(Archive): 0 new", self.fetch("--folder", "Archive", to="Archived").stdout)


if __name__ == "__main__":
    unittest.main()
