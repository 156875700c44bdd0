"""Asyncio POP3 client pieces for the soak (tests/soak): a connection bound to a chosen
loopback source address, line and multi-line reads, and small statistics helpers.

Thread-safety: one event loop; a Pop3Conn belongs to the task that opened it.
Must never: connect anywhere but 127.0.0.1 (the soak is loopback only).
"""

import asyncio
import socket
import time

# Linux's IP_BIND_ADDRESS_NO_PORT: bind() picks the source address now and the port at
# connect(), so thousands of bound sockets do not each reserve a port of their own up front.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def source_addresses(count, first=2):
    """`count` loopback source addresses 127.0.0.<first>... (at most up to 127.0.0.250)."""
    if first + count - 1 > 250:
        raise ValueError("at most %d source addresses from 127.0.0.%d" % (251 - first, first))
    return ["127.0.0.%d" % (first + i) for i in range(count)]


class Pop3Conn:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port, source=None, timeout=30.0):
        """Connects from `source` (bound before connect) to 127.0.0.1:port."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if source is not None:
                sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((source, 0))
            loop = asyncio.get_running_loop()
            await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), timeout)
            reader, writer = await asyncio.open_connection(sock=sock)
        except BaseException:
            sock.close()
            raise
        return cls(reader, writer)

    async def line(self, timeout=30.0) -> bytes:
        """One reply line without its CRLF; EOFError when the server closed first."""
        try:
            raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n"), timeout)
        except asyncio.IncompleteReadError as e:
            raise EOFError("connection closed; partial line %r" % e.partial[:100]) from None
        return raw[:-2]

    async def cmd(self, text: str, timeout=30.0) -> bytes:
        self.writer.write(text.encode() + b"\r\n")
        return await self.line(timeout)

    async def multiline(self, timeout=30.0) -> bytes:
        """The body of a multi-line reply, dot-unstuffed, each line ending in CRLF."""
        out = []
        while True:
            line = await self.line(timeout)
            if line == b".":
                return b"".join(out)
            out.append((line[1:] if line.startswith(b".") else line) + b"\r\n")

    async def wait_closed_by_server(self, timeout) -> bool:
        """True when the server closes (EOF or reset) within `timeout` seconds."""
        try:
            while True:
                chunk = await asyncio.wait_for(self.reader.read(65536), timeout)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except asyncio.TimeoutError:
            return False

    def close(self):
        try:
            self.writer.close()
        except (OSError, RuntimeError):
            pass


async def login_stat_quit(port, user, password, source=None, timeout=10.0):
    """One complete short session; returns its latency in seconds or raises AssertionError."""
    started = time.monotonic()
    conn = await Pop3Conn.open(port, source, timeout)
    try:
        steps = (("greeting", None), ("USER", "USER " + user), ("PASS", "PASS " + password),
                 ("STAT", "STAT"), ("QUIT", "QUIT"))
        for step, command in steps:
            reply = await (conn.line(timeout) if command is None else conn.cmd(command, timeout))
            if not reply.startswith(b"+OK"):
                raise AssertionError("%s: %r" % (step, reply[:200]))
    finally:
        conn.close()
    return time.monotonic() - started


def percentile(values, p):
    """The p-th percentile (0-100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def ms(seconds):
    return "%.1f ms" % (seconds * 1000.0)
