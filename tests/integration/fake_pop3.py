"""FakePop3: a scripted, deliberately misbehaving POP3 server for client tests (pure Python).

What it is: a plaintext POP3 server on 127.0.0.1 (a port the kernel picks) served by one
thread, one connection at a time, with one "personality" per instance chosen by keyword flags
(see FakePop3.__init__): each flag breaks one rule the way a real server was seen to break it
(SPEC §16/§17). It keeps a record of every command line it received (`commands`, PASS and AUTH
payloads masked), of the connections it served, and of the DELEs it committed at QUIT
(`deleted`, by UIDL). Messages deleted at QUIT are gone for later connections, so a second run
of a client sees what a real server would show.

Thread-safety: the server thread appends to the records under a lock; tests read them after
the client has exited (or through the accessor methods). One client at a time.

What it must never do: listen on anything but 127.0.0.1, block a test forever (every socket has
a timeout, and stop() closes everything), or treat its own misbehaviour as accidental: every
deviation from RFC 1939 here is a flag that a test asked for.
"""

import base64
import socket
import threading

# Bytes that end a line on the wire; bare_lf replaces CRLF with LF everywhere.
CRLF = b"\r\n"


class FakePop3:
    def __init__(self, messages, *, user="alice", password="secret", uidls=None,
                 no_capa=False, capa_without_uidl=False, capa_extra=(), uidl_err=False,
                 extra_spaces=False, bare_lf=False, bare_ok=False, sasl=None,
                 sasl_go_ahead=False, pipelining=False, pipeline_race=False, pass_error=None,
                 close_mid_retr=None, quit_err=False, pop4=None, folders=None,
                 lfld_lines=None):
        """messages: list of bytes, each with CRLF (or LF) line ends, not dot-stuffed.

        uidls: list of UIDL strings (default "uid-1", "uid-2", ...); two equal ones make the
          R1939-7-e duplicate case.
        no_capa: -ERR to CAPA (an RFC 1939-only server; R2449-5-f, R2449-7-a).
        capa_without_uidl: CAPA lists no UIDL (but UIDL works: clients must probe).
        capa_extra: more CAPA lines ("EXPIRE 0", "LOGIN-DELAY 900", ...).
        uidl_err: -ERR to UIDL (no UIDL at all; PR-C-15).
        extra_spaces: three spaces between the fields of UIDL and LIST lines (PR-C-3).
        bare_lf: every line end the server writes is a bare LF (PR-C-6).
        bare_ok: "+OK" without any text, everywhere (R1957-c).
        sasl: list of SASL mechanisms offered in CAPA ("PLAIN", "LOGIN"); USER is always offered.
        sasl_go_ahead: SASL challenges are "+ go ahead" instead of base64 (PR-C-8).
        pipelining: offer PIPELINING in CAPA.
        pipeline_race: when a RETR arrives with another command already behind it, write that
          command's "+OK" before this message's terminating "." (wildduck#950).
        pass_error: the -ERR text (e.g. "[IN-USE] phone connected") that PASS and AUTH get.
        close_mid_retr: the message number whose RETR is cut off halfway (connection closed).
        quit_err: QUIT gets "-ERR" and no DELE is committed.
        pop4: the abilities of a CAPA line "X-POP4 ..." (e.g. "FOLDERS FLAGS"); None: no such
          line. With FOLDERS the POP4 folder commands (POP4.md) work: LFLD, SFLD, MOVE.
        folders: {name: [messages]} beside INBOX (which is `messages`); their UIDLs are
          "<name>-uid-1", ... (spaces in the name as "_"). MOVE copies at once and removes the original at QUIT, like DELE.
        lfld_lines: LFLD's body lines as given (str), instead of the real folder list.
        """
        self.messages = [bytes(m) for m in messages]
        self.uidls = list(uidls) if uidls else ["uid-%d" % (i + 1) for i in range(len(messages))]
        assert len(self.uidls) == len(self.messages)
        self.user = user
        self.password = password
        self.no_capa = no_capa
        self.capa_without_uidl = capa_without_uidl
        self.capa_extra = list(capa_extra)
        self.uidl_err = uidl_err
        self.extra_spaces = extra_spaces
        self.bare_lf = bare_lf
        self.bare_ok = bare_ok
        self.sasl = list(sasl or [])
        self.sasl_go_ahead = sasl_go_ahead
        self.pipelining = pipelining
        self.pipeline_race = pipeline_race
        self.pass_error = pass_error
        self.close_mid_retr = close_mid_retr
        self.quit_err = quit_err
        self.pop4 = pop4
        self.lfld_lines = lfld_lines
        # POP4 folders other than INBOX: name -> [uidls, messages].
        self.folders = {name: [["%s-uid-%d" % (name.replace(" ", "_"), i + 1)
                                for i in range(len(msgs))],
                               [bytes(m) for m in msgs]]
                        for name, msgs in (folders or {}).items()}
        self.moves = 0  # MOVE copies made (for fresh UIDLs in the target)

        self._lock = threading.Lock()
        self.commands = []     # every command line received, across connections
        self.connections = 0   # connections served
        self.deleted = []      # UIDLs deleted at a QUIT answered +OK
        self.races = 0         # times pipeline_race actually mis-ordered a response
        self.errors = []       # exceptions in the server thread (a test should assert none)

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(4)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    # -- life cycle ---------------------------------------------------------------------------
    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- records --------------------------------------------------------------------------
    def command_names(self):
        """The command verbs received, upper case, in order (across connections)."""
        with self._lock:
            return [c.split(" ", 1)[0].upper() for c in self.commands]

    def remaining(self):
        """(uidl, bytes) of the messages still on the server."""
        with self._lock:
            return list(zip(self.uidls, self.messages))

    def folder_contents(self, name):
        """(uidl, bytes) of the messages in a POP4 folder (INBOX: remaining())."""
        if name.upper() == "INBOX":
            return self.remaining()
        with self._lock:
            uidls, messages = self.folders[name]
            return list(zip(uidls, messages))

    def box(self, name):
        """The [uidls, messages] lists of a folder (INBOX included); the caller locks."""
        if name.upper() == "INBOX":
            return [self.uidls, self.messages]
        return self.folders[name]

    # -- the server thread ----------------------------------------------------------------
    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            conn.settimeout(30)
            try:
                _Session(self, conn).run()
            except (OSError, _Closed):
                pass
            except Exception as e:  # a bug in the fake: make it visible to the test
                with self._lock:
                    self.errors.append(repr(e))
            finally:
                conn.close()


class _Closed(Exception):
    """The session ends here (the client went away, or the personality hangs up)."""


class _Session:
    def __init__(self, server, conn):
        self.s = server
        self.conn = conn
        self.buf = b""
        self.authed = False
        self.user_ok = False
        self.marked = set()  # message numbers marked deleted in this session
        # POP4: the selected folder, and the marks of every folder touched (INBOX's is marked).
        self.selected = "INBOX"
        self.folder_marks = {"INBOX": self.marked}

    # Output: everything goes through line(), so bare_lf applies everywhere.
    def write(self, data):
        if self.s.bare_lf:
            data = data.replace(CRLF, b"\n")
        self.conn.sendall(data)

    def ok(self, text=""):
        if self.s.bare_ok or not text:
            return b"+OK" + CRLF
        return b"+OK " + text.encode() + CRLF

    def err(self, text):
        return b"-ERR " + text.encode() + CRLF

    def read_line(self):
        while b"\n" not in self.buf:
            data = self.conn.recv(4096)
            if not data:
                raise _Closed()
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def retr_behind(self):
        """True when a complete RETR waits in the input (pipelined behind this one). Waits a
        moment for it, so a pipelining client split across TCP segments still meets the race;
        a lock-step client sends nothing more and costs this wait once per RETR."""
        if b"\n" not in self.buf:
            self.conn.settimeout(0.2)
            try:
                data = self.conn.recv(4096)
                if data:
                    self.buf += data
            except socket.timeout:
                pass
            finally:
                self.conn.settimeout(30)
        return b"\n" in self.buf and self.buf[:5].upper() == b"RETR "

    def record(self, line):
        verb = line.split(" ", 1)[0].upper()
        shown = line
        if verb == "PASS":
            shown = "PASS ***"
        elif verb == "AUTH" and len(line.split(" ")) > 2:
            shown = " ".join(line.split(" ")[:2]) + " ***"
        with self.s._lock:
            self.s.commands.append(shown)

    def listed(self):
        """(number, uidl, message) of messages not marked deleted in this session."""
        uidls, messages = self.s.box(self.selected)
        return [(i + 1, u, m) for i, (u, m) in enumerate(zip(uidls, messages))
                if i + 1 not in self.marked]

    @staticmethod
    def wire_form(message):
        """Every line end as CRLF, a final CRLF, "." at a line start doubled (RFC 1939 §3)."""
        lines = message.replace(b"\r\n", b"\n").split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return b"".join((b"." + l if l.startswith(b".") else l) + CRLF for l in lines)

    def number_arg(self, line):
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            return None
        n = int(parts[1])
        if n < 1 or n > len(self.s.box(self.selected)[1]) or n in self.marked:
            return None
        return n

    def capa_lines(self):
        lines = ["USER"]
        if not self.s.capa_without_uidl and not self.s.uidl_err:
            lines.append("UIDL")
        if self.s.pipelining:
            lines.append("PIPELINING")
        if self.s.sasl:
            lines.append("SASL " + " ".join(self.s.sasl))
        if self.s.pop4 is not None:
            lines.append(("X-POP4 " + self.s.pop4).strip())
        lines += self.s.capa_extra
        return lines

    def check_credentials(self, user, password):
        if self.s.pass_error:
            return self.err(self.s.pass_error)
        if user == self.s.user and password == self.s.password:
            self.authed = True
            return self.ok("logged in")
        return self.err("[AUTH] invalid credentials")

    def challenge(self, text):
        if self.s.sasl_go_ahead:
            return b"+ go ahead" + CRLF
        return b"+ " + base64.b64encode(text) + CRLF

    def auth(self, line):
        parts = line.split(" ")
        mech = parts[1].upper() if len(parts) > 1 else ""
        if mech not in self.s.sasl:
            return self.err("unsupported mechanism")
        if mech == "PLAIN":
            if len(parts) > 2:
                response = parts[2]
            else:
                self.write(self.challenge(b""))
                response = self.read_line()
            try:
                _, user, password = base64.b64decode(response).decode().split("\0")
            except ValueError:
                return self.err("[AUTH] malformed PLAIN")
            return self.check_credentials(user, password)
        # LOGIN (draft-murchison-sasl-login): user name, then password.
        self.write(self.challenge(b"Username:"))
        user = base64.b64decode(self.read_line()).decode()
        self.write(self.challenge(b"Password:"))
        password = base64.b64decode(self.read_line()).decode()
        return self.check_credentials(user, password)

    def retr(self, n):
        message = self.s.box(self.selected)[1][n - 1]
        wire = self.wire_form(message)
        status = self.ok("%d octets" % len(wire))
        if self.s.close_mid_retr == n:
            self.write(status + wire[:len(wire) // 2])
            raise _Closed()
        if self.s.pipeline_race and self.retr_behind():
            # wildduck#950: the next RETR is answered before this message's "." is out.
            nxt = self.read_line()
            self.record(nxt)
            nn = self.number_arg(nxt)
            if nn is not None:
                with self.s._lock:
                    self.s.races += 1
                nwire = self.wire_form(self.s.box(self.selected)[1][nn - 1])
                return (status + wire + self.ok("%d octets" % len(nwire)) + b"." + CRLF +
                        nwire + b"." + CRLF)
            return status + wire + b"." + CRLF + self.err("no such message")
        return status + wire + b"." + CRLF

    def dispatch(self, line):
        """The response to one command line (bytes), or raises _Closed."""
        verb = line.split(" ", 1)[0].upper()
        if verb == "CAPA":
            if self.s.no_capa:
                return self.err("unknown command")
            return self.ok("capability list follows") + b"".join(
                l.encode() + CRLF for l in self.capa_lines()) + b"." + CRLF
        if verb == "QUIT":
            if not self.authed:
                self.write(self.ok("bye"))
                raise _Closed()
            if self.s.quit_err:
                self.write(self.err("[SYS/TEMP] could not remove deleted messages"))
                raise _Closed()
            with self.s._lock:
                for name, marked in self.folder_marks.items():
                    uidls, messages = self.s.box(name)
                    for n in sorted(marked, reverse=True):
                        self.s.deleted.append(uidls[n - 1])
                        del uidls[n - 1]
                        del messages[n - 1]
            self.write(self.ok("bye"))
            raise _Closed()
        if not self.authed:
            if verb == "USER":
                self.user_ok = line[5:] == self.s.user
                return self.ok("send PASS")
            if verb == "PASS":
                return self.check_credentials(self.s.user if self.user_ok else None, line[5:])
            if verb == "AUTH":
                return self.auth(line)
            return self.err("not logged in")
        sep = "   " if self.s.extra_spaces else " "
        if verb == "STAT":
            items = self.listed()
            return self.ok("%d %d" % (len(items),
                                      sum(len(self.wire_form(m)) for _, _, m in items)))
        if verb == "UIDL":
            if self.s.uidl_err:
                return self.err("command not implemented")
            return self.ok() + b"".join(
                ("%d%s%s" % (n, sep, u)).encode() + CRLF for n, u, _ in self.listed()
            ) + b"." + CRLF
        if verb == "LIST":
            return self.ok() + b"".join(
                ("%d%s%d" % (n, sep, len(self.wire_form(m)))).encode() + CRLF
                for n, _, m in self.listed()) + b"." + CRLF
        if verb == "RETR":
            n = self.number_arg(line)
            return self.err("no such message") if n is None else self.retr(n)
        if verb == "DELE":
            n = self.number_arg(line)
            if n is None:
                return self.err("no such message")
            self.marked.add(n)
            return self.ok("marked")
        if verb == "NOOP":
            return self.ok()
        if verb in ("LFLD", "SFLD", "MOVE") and "FOLDERS" in (self.s.pop4 or "").split():
            return self.folder_command(verb, line)
        return self.err("unknown command")

    # -- POP4 folders (POP4.md "Folder commands") -------------------------------------------
    @staticmethod
    def folder_arg(text):
        """(folder name, rest of the line) from an atom or a quoted string, or None."""
        if text.startswith('"'):
            name, i = "", 1
            while i < len(text):
                c = text[i]
                if c == '"':
                    return name, text[i + 1:]
                if c == "\\":
                    if i + 1 >= len(text) or text[i + 1] not in '"\\':
                        return None
                    i += 1
                    c = text[i]
                name += c
                i += 1
            return None
        name, _, rest = text.partition(" ")
        if not name or any(c in name for c in '"\\*%'):
            return None
        return name, (" " + rest if rest else "")

    @staticmethod
    def folder_form(name):
        if name and all(0x21 <= ord(c) < 0x7F and c not in '"\\*%' for c in name):
            return name
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def known_folder(self, name):
        return name.upper() == "INBOX" or name in self.s.folders

    def folder_command(self, verb, line):
        if verb == "LFLD":
            if self.s.lfld_lines is not None:
                lines = list(self.s.lfld_lines)
            else:
                lines = []
                with self.s._lock:
                    for name in ["INBOX"] + sorted(self.s.folders):
                        marked = self.folder_marks.get(name, set())
                        msgs = [m for i, m in enumerate(self.s.box(name)[1])
                                if i + 1 not in marked]
                        lines.append("%s %d %d" % (self.folder_form(name), len(msgs),
                                                   sum(len(self.wire_form(m)) for m in msgs)))
            return self.ok("%d folders" % len(lines)) + b"".join(
                (("." + l) if l.startswith(".") else l).encode("latin-1") + CRLF
                for l in lines) + b"." + CRLF
        if verb == "SFLD":
            parsed = self.folder_arg(line[5:])
            if parsed is None or parsed[1] or not self.known_folder(parsed[0]):
                return self.err("no such folder")
            self.selected = "INBOX" if parsed[0].upper() == "INBOX" else parsed[0]
            self.marked = self.folder_marks.setdefault(self.selected, set())
            items = self.listed()
            return self.ok("%d %d" % (len(items),
                                      sum(len(self.wire_form(m)) for _, _, m in items)))
        # MOVE n folder (one message number is all poplar fetch sends)
        number, _, rest = line[5:].partition(" ")
        n = self.number_arg("MOVE " + number)
        parsed = self.folder_arg(rest)
        if n is None or parsed is None or parsed[1]:
            return self.err("bad message number or folder")
        target = "INBOX" if parsed[0].upper() == "INBOX" else parsed[0]
        if not self.known_folder(target) or target == self.selected:
            return self.err("no such folder, or the selected one")
        with self.s._lock:
            self.s.moves += 1
            uidls, messages = self.s.box(target)
            uidls.append("moved-%d" % self.s.moves)
            messages.append(self.s.box(self.selected)[1][n - 1])
        self.marked.add(n)
        return self.ok("1 moved")

    def run(self):
        self.write(self.ok("fake POP3 server ready"))
        while True:
            line = self.read_line()
            self.record(line)
            self.write(self.dispatch(line))
