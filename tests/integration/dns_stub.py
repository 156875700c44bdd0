"""A tiny authoritative DNS server for tests of `poplar fetch --discover` (RFC 6186 SRV lookups).

UDP on 127.0.0.1, a port chosen by the kernel, one thread. It answers SRV queries from a table
and nothing else; point poplar at it with POPLAR_DNS_SERVER=stub.address (a test hook).

    with DnsStub({"_pop3s._tcp.example.test": [(0, 1, 995, "localhost")]}) as dns:
        env["POPLAR_DNS_SERVER"] = dns.address

Zone values:
  - a list of (priority, weight, port, target) tuples: the SRV records (target "." or "" for
    the RFC 2782 "service not offered" record);
  - DnsStub.SERVFAIL or DnsStub.REFUSED: that response code;
  - DnsStub.SILENT: no answer at all (the client must time out).
Names not in the table get NXDOMAIN; a name in the table asked for another type gets an empty
NOERROR answer (NODATA). Names compare without ASCII case; the question is echoed as asked.
`queries` lists every (name, type) received, for tests that check what was asked.

Pure Python (no dnspython), so it runs wherever the tests run. Not a real DNS server: no TCP
(answers are far below 512 octets, so the client never needs it), no compression of targets,
no EDNS OPT in replies (allowed: RFC 6891 §7). Must never be reachable from outside: it binds
127.0.0.1 only.
"""

import socket
import struct
import threading

TYPE_SRV = 33
CLASS_IN = 1
RCODE_NOERROR, RCODE_FORMERR, RCODE_SERVFAIL, RCODE_NXDOMAIN, RCODE_REFUSED = 0, 1, 2, 3, 5


def encode_name(name):
    """Uncompressed wire form of a dotted name; "" and "." are the root."""
    out = b""
    for label in name.strip(".").split("."):
        if label:
            raw = label.encode("ascii")
            if len(raw) > 63:
                raise ValueError("label longer than 63 octets: %r" % label)
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def parse_question(query):
    """(id, flags, name, qtype, qclass, end of question) of a query, or None if malformed."""
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", query[:6])
    if qdcount != 1 or flags & 0x8000:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(query):
            return None
        length = query[pos]
        if length == 0:
            pos += 1
            break
        if length & 0xC0 or pos + 1 + length > len(query):
            return None  # queries carry no compression
        labels.append(query[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    if pos + 4 > len(query):
        return None
    qtype, qclass = struct.unpack(">HH", query[pos:pos + 4])
    return qid, flags, ".".join(labels), qtype, qclass, pos + 4


class DnsStub:
    SERVFAIL = "servfail"
    REFUSED = "refused"
    SILENT = "silent"

    def __init__(self, zone=None):
        self.zone = {}
        for name, value in (zone or {}).items():
            self.set(name, value)
        self.queries = []
        self._lock = threading.Lock()
        self._sock = None
        self._thread = None
        self.port = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def set(self, name, value):
        """Replaces the answer for one name (also while running)."""
        self.zone[name.lower().rstrip(".")] = value

    def start(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="dns-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._sock is None:
            return
        sock, self._sock = self._sock, None
        # Wake the blocked recvfrom with an empty datagram, then close.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:
            waker.sendto(b"", ("127.0.0.1", self.port))
        self._thread.join(timeout=10)
        sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _serve(self):
        sock = self._sock
        while True:
            try:
                query, peer = sock.recvfrom(4096)
            except OSError:
                return
            if self._sock is None:
                return
            reply = self.answer(query)
            if reply is not None:
                sock.sendto(reply, peer)

    def answer(self, query):
        """The reply to one query (bytes), or None to stay silent."""
        parsed = parse_question(query)
        if parsed is None:
            if len(query) >= 2:  # FORMERR with the id, no question
                return query[:2] + struct.pack(">HHHHH", 0x8000 | RCODE_FORMERR, 0, 0, 0, 0)
            return None
        qid, flags, name, qtype, qclass, end = parsed
        with self._lock:
            self.queries.append((name, qtype))
        value = self.zone.get(name.lower().rstrip("."))
        records = []
        if value is None:
            rcode = RCODE_NXDOMAIN
        elif value == self.SILENT:
            return None
        elif value == self.SERVFAIL:
            rcode = RCODE_SERVFAIL
        elif value == self.REFUSED:
            rcode = RCODE_REFUSED
        else:
            rcode = RCODE_NOERROR
            if qtype == TYPE_SRV and qclass == CLASS_IN:
                records = list(value)
        # QR, the query's opcode and RD, AA (we are the authority), RA.
        reply_flags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
        out = struct.pack(">HHHHHH", qid, reply_flags, 1, len(records), 0, 0) + query[12:end]
        for priority, weight, port, target in records:
            rdata = struct.pack(">HHH", priority, weight, port) + encode_name(target)
            # Owner: a pointer to the question's name at offset 12 (RFC 1035 §4.1.4).
            out += struct.pack(">HHHIH", 0xC00C, TYPE_SRV, CLASS_IN, 60, len(rdata)) + rdata
        return out


if __name__ == "__main__":
    # A quick look by hand: python3 tests/integration/dns_stub.py, then in another shell
    # `dig @127.0.0.1 -p PORT _pop3s._tcp.example.test SRV`.
    import time
    stub = DnsStub({"_pop3s._tcp.example.test": [(0, 1, 995, "localhost")],
                    "_pop3._tcp.example.test": [(0, 0, 0, ".")]}).start()
    print("dns stub on", stub.address)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stub.stop()
