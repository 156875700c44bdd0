"""kill -9 of a real `poplar serve` during POP4 STOR and during an UPDATE with MOVE, COPY and FLAG
marks, then a restart on the same Maildir (issue 7, "Faults and crashes").

What must hold after every crash (docs/pop4.md "STOR", "COPY and MOVE", "When they take
effect"; docs/formats/maildir.md "STOR", "COPY"):
- STOR: the message is absent or whole in the target folder, never partial; a leftover in tmp/
  is never listed. Absent whenever the terminating dot was not sent; present once the +OK came.
- MOVE: the copy is durable at MOVE's +OK, the original goes at UPDATE, so a moved message is
  in the target and in INBOX at most once (in both only if the kill came before the UPDATE
  finished), never in neither. COPY: in both, once each. DELE: present or gone.
- FLAG: each message has its old or its new set of flags, nothing in between.
- Messages nothing was asked of are unchanged.
Each state is checked twice: in the folders' files on disk, and through a fresh POP3 session
(STAT/LIST/RETR/FLGS in INBOX, SFLD and the same in the target folder).

The kills of the UPDATE come at random delays after QUIT (seeded; the seed is in the failure
message), bounded by the UPDATE time measured in a first, uninterrupted round.
"""

import collections
import os
import random
import shutil
import time
import unittest

from harness import PoplarServer, RawClient, wait_until

POP4 = "[pop4]\nenabled = true\n"
HOST = "crash.example.org"

# Maildir info letters (docs/formats/maildir.md); lower-case letters are dovecot-keywords.
SYSTEM_LETTERS = {"D": "\\Draft", "F": "\\Flagged", "P": "$Forwarded", "R": "\\Answered",
                  "S": "\\Seen", "T": "\\Deleted"}


def normalize(data: bytes) -> bytes:
    """Line ends as LF: the store and the wire may differ in them, never in the text."""
    return data.replace(b"\r\n", b"\n")


def dot_stuff(message: bytes) -> bytes:
    lines = message.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)


class Pop4CrashTest(unittest.TestCase):
    def setUp(self):
        self.server = PoplarServer(mailboxes={"alice": []}, config_extra=POP4)
        self.addCleanup(self.server.cleanup)

    # -- helpers ----------------------------------------------------------------------------
    def folder_dir(self, folder):
        md = self.server.maildir("alice")
        return md if folder == "INBOX" else os.path.join(md, "." + folder)

    def make_folder(self, folder):
        """A folder as Dovecot and Poplar's CFLD lay it out: .Name/{cur,new,tmp}/maildirfolder."""
        d = self.folder_dir(folder)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        open(os.path.join(d, "maildirfolder"), "wb").close()

    def keywords(self, folder):
        path = os.path.join(self.folder_dir(folder), "dovecot-keywords")
        letters = {}
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2 and parts[0].isdigit():
                        letters[chr(ord("a") + int(parts[0]))] = parts[1]
        return letters

    def disk_messages(self, folder):
        """[(normalized content, frozenset of flags)] of new/ and cur/; tmp/ is not mail."""
        keywords = self.keywords(folder)
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.folder_dir(folder), sub)
            for name in os.listdir(d):
                flags = set()
                if ":2," in name:
                    for letter in name.split(":2,", 1)[1]:
                        if letter in SYSTEM_LETTERS:
                            flags.add(SYSTEM_LETTERS[letter])
                        else:
                            self.assertIn(letter, keywords, f"unmapped letter in {name}")
                            flags.add(keywords[letter])
                with open(os.path.join(d, name), "rb") as f:
                    out.append((normalize(f.read()), frozenset(f.lower() for f in flags)))
        return out

    def login(self):
        c = RawClient(self.server.port, timeout=20)
        reply = c.login()
        self.assertTrue(reply.startswith(b"+OK"), reply)
        return c

    def pop3_messages(self, c, with_flags=True):
        """[(normalized content, frozenset of flags)] of the selected folder, by RETR and FLGS."""
        stat = c.cmd("STAT")
        self.assertTrue(stat.startswith(b"+OK"), stat)
        count = int(stat.split()[1])
        self.assertTrue(c.cmd("LIST").startswith(b"+OK"))
        sizes = dict(l.split() for l in c.multiline())
        flags = {}
        if with_flags:
            self.assertTrue(c.cmd("FLGS").startswith(b"+OK"))
            for line in c.multiline():
                n, *names = line.decode().split()
                flags[n.encode()] = frozenset(x.lower() for x in names)
        out = []
        for n in range(1, count + 1):
            reply = c.cmd("RETR %d" % n)
            self.assertTrue(reply.startswith(b"+OK"), reply)
            lines = c.multiline()
            wire = b"".join(l + b"\r\n" for l in lines)
            self.assertEqual(len(wire), int(sizes[str(n).encode()]), "LIST size != RETR octets")
            out.append((normalize(wire), flags.get(str(n).encode(), frozenset())))
        return out

    def both_views(self, folder):
        """The folder's messages on disk and through POP3; they must agree (as multisets)."""
        disk = self.disk_messages(folder)
        c = self.login()
        if folder != "INBOX":
            reply = c.cmd("SFLD " + folder)
            self.assertTrue(reply.startswith(b"+OK"), reply)
        pop = self.pop3_messages(c)
        self.assertEqual(c.cmd("QUIT")[:3], b"+OK")
        c.close()
        self.assertEqual(collections.Counter(disk), collections.Counter(pop),
                         f"{folder}: disk and POP3 disagree")
        return disk

    # -- STOR -------------------------------------------------------------------------------
    CHUNKS = 8
    CHUNK_LINES = 1000  # about 60 KiB per chunk, near the writer's block of 64 KiB

    def stor_message(self, round_no):
        lines = [b"From: crash@example.org", b"Subject: stored in round %d" % round_no, b""]
        for i in range(self.CHUNKS * self.CHUNK_LINES - 3):
            lines.append(b".round %02d line %06d of the stored message, a dot first......" %
                         (round_no, i) if i % 7 == 0 else
                         b"round %02d line %06d of the stored message................" %
                         (round_no, i))
        return b"".join(l + b"\r\n" for l in lines)

    def test_kill_during_stor_leaves_the_message_absent_or_whole(self):
        self.make_folder("Archive")
        self.server.start()
        tmp_dir = os.path.join(self.folder_dir("Archive"), "tmp")
        # (chunks sent before the kill, what happens after them)
        points = [(k, "cut") for k in (0, 1, 2, 4, self.CHUNKS)]
        points += [(self.CHUNKS, "dot-sent")] * 3 + [(self.CHUNKS, "ok-received")]
        stored = []  # normalized messages that must be in Archive
        partial_leftovers = 0  # kills that left a non-empty file in tmp/ (the case to prove)
        maybe = set()  # ... or may be
        for round_no, (k, after) in enumerate(points):
            with self.subTest(chunks=k, after=after):
                message = self.stor_message(round_no)
                wire = dot_stuff(message)
                step = len(wire) // self.CHUNKS
                chunks = [wire[i * step:(i + 1) * step] for i in range(self.CHUNKS - 1)]
                chunks.append(wire[(self.CHUNKS - 1) * step:])
                c = self.login()
                reply = c.cmd("STOR Archive (\\Seen)")
                self.assertEqual(reply, b"+ send message")
                for chunk in chunks[:k]:
                    c.send(chunk)
                if after == "cut" and k > 0:
                    # Let the server begin its tmp/ file, and once more than 3 blocks of 64 KiB
                    # were sent, write into it (it appends a block when its buffer passes 64 KiB),
                    # so the kill finds a partial file. If it lags, the kill simply comes earlier.
                    want = 1 if k * step > 3 * 65536 else 0

                    def written():
                        names = os.listdir(tmp_dir)
                        return any(os.path.getsize(os.path.join(tmp_dir, n)) >= want
                                   for n in names if os.path.exists(os.path.join(tmp_dir, n)))
                    try:
                        wait_until(written, timeout=3, interval=0.005)
                    except AssertionError:
                        pass
                elif after == "dot-sent":
                    c.send(b".\r\n")
                    time.sleep(random.Random(round_no).uniform(0, 0.02))
                elif after == "ok-received":
                    c.send(b".\r\n")
                    reply = c.line()
                    self.assertTrue(reply.startswith(b"+OK "), reply)
                self.server.kill9()
                c.close()
                if any(os.path.getsize(os.path.join(tmp_dir, n)) for n in os.listdir(tmp_dir)):
                    partial_leftovers += 1
                self.server.start()
                if after == "ok-received":
                    stored.append(normalize(message))
                elif after == "dot-sent":
                    maybe.add(normalize(message))

                found = self.both_views("Archive")
                contents = [m for m, _ in found]
                self.assertEqual(len(contents), len(set(contents)), "a STOR stored twice")
                for m, flags in found:
                    self.assertIn(m, set(stored) | maybe, "a partial or unexpected message")
                    self.assertEqual(flags, frozenset({"\\seen"}))
                for m in stored:
                    self.assertIn(m, contents, "a STOR acknowledged with +OK was lost")
                # What survived a kill after the dot is now part of the expected state.
                stored += [m for m in contents if m in maybe]
                maybe -= set(contents)
        # INBOX was never a target: nothing may have landed there.
        self.assertEqual(self.disk_messages("INBOX"), [])
        # A kill mid-message leaves its partial tmp/ file (only an orderly end unlinks it), and
        # it was never listed above.
        self.assertGreater(partial_leftovers, 0, "no kill caught a partial tmp/ file")

    # -- UPDATE with MOVE, COPY, FLAG, DELE --------------------------------------------------
    # Message numbers (1-based) of each role in INBOX.
    MOVED = range(1, 31)         # MOVE 1:30 Archive; 1:5 first get +\Answered
    COPIED = range(31, 51)       # COPY 31:50 Archive
    FLAGGED = range(51, 91)      # FLAG 51:90 +\Seen +$Junk; 51:60 already \Flagged on disk
    DELETED = range(91, 111)     # DELE
    UNTOUCHED = range(111, 121)  # nothing; 111:115 \Flagged on disk
    TOTAL = 120

    def inbox_message(self, n):
        return b"From: m%d@example.org\nSubject: message %d\n\nbody of message %d\n" % (n, n, n)

    def initial_flags(self, n):
        flagged = n in range(51, 61) or n in range(111, 116)
        return frozenset({"\\flagged"}) if flagged else frozenset()

    def reset_mailbox(self):
        """A fresh Maildir with the same file names as every other round (so the same UIDLs)."""
        md = self.server.maildir("alice")
        shutil.rmtree(md, ignore_errors=True)
        self.make_folder("INBOX")
        self.make_folder("Archive")
        os.unlink(os.path.join(md, "maildirfolder"))  # INBOX is the root, not a folder
        for n in range(1, self.TOTAL + 1):
            base = "%d.M%dP%dQ%d.%s" % (1700000000 + n, n, 4242, n, HOST)
            if self.initial_flags(n):
                path = os.path.join(md, "cur", base + ":2,F")
            else:
                path = os.path.join(md, "new", base)
            with open(path, "wb") as f:
                f.write(self.inbox_message(n))

    def run_session_until_quit(self):
        """Logs in, marks, sends QUIT; returns the client (QUIT's reply not yet read)."""
        c = self.login()
        for command, want in (("FLAG 1:5 +\\Answered", b"+OK"),
                              ("MOVE 1:30 Archive", b"+OK 30 moved"),
                              ("COPY 31:50 Archive", b"+OK 20 copied"),
                              ("FLAG 51:90 +\\Seen +$Junk", b"+OK")):
            reply = c.cmd(command)
            self.assertTrue(reply.startswith(want), (command, reply))
        c.send(b"".join(b"DELE %d\r\n" % n for n in self.DELETED))
        for n in self.DELETED:
            self.assertTrue(c.line().startswith(b"+OK"), n)
        c.send(b"QUIT\r\n")
        return c

    def check_update_state(self, quit_acknowledged, context):
        msg = {n: normalize(self.inbox_message(n)) for n in range(1, self.TOTAL + 1)}
        old = {n: self.initial_flags(n) for n in msg}
        new = dict(old)
        for n in self.FLAGGED:
            new[n] = old[n] | {"\\seen", "$junk"}

        inbox = self.both_views("INBOX")
        archive = self.both_views("Archive")
        in_inbox = collections.Counter(m for m, _ in inbox)
        in_archive = collections.Counter(m for m, _ in archive)
        inbox_flags = {m: f for m, f in inbox}
        archive_flags = {m: f for m, f in archive}
        known = set(msg.values())
        self.assertLessEqual(set(in_inbox), known, context)
        self.assertLessEqual(set(in_archive), known, context)
        for n, m in msg.items():
            where = f"{context}, message {n}"
            if n in self.MOVED:  # its INBOX flags do not matter: it is going
                self.assertEqual(in_archive[m], 1, where + ": a moved message's copy")
                self.assertLessEqual(in_inbox[m], 0 if quit_acknowledged else 1, where)
                want = frozenset({"\\answered"}) if n <= 5 else frozenset()
                self.assertEqual(archive_flags[m], want, where)
            elif n in self.COPIED:
                self.assertEqual((in_inbox[m], in_archive[m]), (1, 1), where)
                self.assertEqual(inbox_flags[m], old[n], where)
                self.assertEqual(archive_flags[m], old[n], where)
            elif n in self.FLAGGED:
                self.assertEqual((in_inbox[m], in_archive[m]), (1, 0), where)
                allowed = {new[n]} if quit_acknowledged else {old[n], new[n]}
                self.assertIn(inbox_flags[m], allowed, where + ": flags half changed")
            elif n in self.DELETED:
                self.assertLessEqual(in_inbox[m], 0 if quit_acknowledged else 1, where)
                self.assertEqual(in_archive[m], 0, where)
                if in_inbox[m]:
                    self.assertEqual(inbox_flags[m], old[n], where)
            else:
                self.assertEqual((in_inbox[m], in_archive[m]), (1, 0), where)
                self.assertEqual(inbox_flags[m], old[n], where)

    def test_kill_during_update_with_move_copy_and_flag_marks(self):
        seed = int(os.environ.get("POPLAR_CRASH_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        # Round 0 is not killed: it measures the UPDATE and proves the expected end state.
        self.reset_mailbox()
        self.server.start()
        c = self.run_session_until_quit()
        started = time.monotonic()
        reply = c.line()
        update_s = time.monotonic() - started
        self.assertTrue(reply.startswith(b"+OK"), reply)
        c.close()
        self.check_update_state(True, f"seed {seed}, no kill")

        rounds = int(os.environ.get("POPLAR_CRASH_ROUNDS", "12"))
        outcomes = collections.Counter()
        for round_no in range(rounds):
            # Half the rounds within the measured UPDATE time, the rest up to twice it; the
            # first two right after QUIT is sent.
            delay = 0.0 if round_no < 2 else rng.uniform(0, update_s * (1 if round_no % 2 else 2))
            context = f"seed {seed}, round {round_no}, kill {delay * 1000:.1f} ms after QUIT"
            with self.subTest(round=round_no, delay_ms=round(delay * 1000, 1)):
                # The server restarted by the last round is idle, and every login reads the
                # Maildir afresh: it can be rebuilt under the running server (one start a round
                # keeps the ASan run well under a minute).
                self.reset_mailbox()
                c = self.run_session_until_quit()
                if delay:
                    time.sleep(delay)
                self.server.kill9()
                self.server.start()
                c.closed_by_server(timeout=5)
                c.close()
                acknowledged = c.buf.startswith(b"+OK")
                inbox = self.disk_messages("INBOX")
                changed = sum(1 for _, f in inbox if "$junk" in f)
                outcomes["acknowledged" if acknowledged else
                         "not started" if len(inbox) == self.TOTAL and changed == 0 else
                         "cut short"] += 1
                self.check_update_state(acknowledged, context)
        print(f"\nupdate {update_s * 1000:.1f} ms, seed {seed}, outcomes {dict(outcomes)}")


if __name__ == "__main__":
    unittest.main()
