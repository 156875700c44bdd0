"""Soak scenario "flood": one address opens connections as fast as it can and keeps the
ones the server accepts. [limits] max_connections_per_ip must hold (accepted = the cap, the
rest refused with -ERR [SYS/TEMP] and closed), the refusal log lines must stay rate-limited
(at most one a second), and a client from another address is served promptly throughout.

Thread-safety: one event loop. Must never: flood from 127.0.0.1 (the probe's address).
"""

import asyncio
import time

from soak_client import Pop3Conn
from soak_report import Result, finish_probe, start_probe
from soak_server import SoakServer, raise_open_files_limit

FLOOD_SOURCE = "127.0.0.9"
PER_IP_CAP = 50  # the default [limits] max_connections_per_ip, left unchanged


async def run(binary, seconds=10.0, in_flight=64, max_probe_latency_s=1.0):
    result = Result("flood")
    raise_open_files_limit(4096)
    server = SoakServer(binary, {"alice": "secret"})
    server.start()
    kept, counts, oddities = [], {"refused": 0, "attempts": 0}, []

    async def flooder(deadline):
        while time.monotonic() < deadline:
            counts["attempts"] += 1
            try:
                conn = await Pop3Conn.open(server.port, FLOOD_SOURCE, 10)
            except (OSError, asyncio.TimeoutError) as e:
                oddities.append("connect: %s" % e)
                continue
            try:
                first = await conn.line(10)
            except (EOFError, ConnectionResetError):
                first = b""
            except asyncio.TimeoutError:
                first = b"(no reply in 10 s)"
            if first.startswith(b"+OK"):
                kept.append(conn)  # held open: it occupies one of the address's slots
                continue
            conn.close()
            if first.startswith(b"-ERR [SYS/TEMP]") or first == b"":
                counts["refused"] += 1
            else:
                oddities.append("reply %r" % first[:100])

    try:
        probe = await start_probe(server.port, "alice", "secret", seconds, 0.1)
        started = time.monotonic()
        await asyncio.gather(*(flooder(started + seconds) for _ in range(in_flight)))
        took = time.monotonic() - started
        await finish_probe(probe, result, "client from 127.0.0.1", max_probe_latency_s)
        refusal_lines = server.log_lines("connection-refused")
        result.figure("flood from " + FLOOD_SOURCE, "%d connections in %.1f s (%.0f/s)" % (
            counts["attempts"], took, counts["attempts"] / took))
        result.figure("accepted (held open)", len(kept))
        result.figure("refused", counts["refused"])
        result.figure("connection-refused log lines", len(refusal_lines))
        result.check(len(kept) == PER_IP_CAP, "accepted %d, the cap is %d" % (len(kept),
                                                                             PER_IP_CAP))
        result.check(counts["refused"] > 0, "nothing was refused")
        result.check(not oddities, "%d odd outcomes, first: %s" % (len(oddities), oddities[:2]))
        result.check(len(refusal_lines) <= int(took) + 2,
                     "%d refusal log lines in %.1f s (limit: one a second)" % (
                         len(refusal_lines), took))
        result.check(server.proc.poll() is None, "server exited")
    finally:
        for conn in kept:
            conn.close()
        server.cleanup()
    return result
