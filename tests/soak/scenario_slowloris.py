"""Soak scenario "slowloris": connections that send one byte a second and never finish a
line. The server must close each at [limits] login_timeout_s (set short here), while a
normal client (soak_probe.py, its own process) is served promptly throughout.

Thread-safety: one event loop. Must never: send a line end (the point is a login that never
completes) or outlive the login timeout by more than its slack.
"""

import asyncio
import time

from soak_client import Pop3Conn, source_addresses
from soak_report import Result, finish_probe, start_probe
from soak_server import SoakServer, raise_open_files_limit

PER_ADDRESS = 40  # below [limits] max_connections_per_ip = 50
# The watchdog sleeps at least a second between checks and the machine may be loaded.
CLOSE_SLACK_S = 3.0


async def run(binary, connections=200, login_timeout_s=10, max_probe_latency_s=1.0):
    result = Result("slowloris")
    raise_open_files_limit(connections + 1024)
    addresses = source_addresses(-(-connections // PER_ADDRESS))
    server = SoakServer(binary, {"alice": "secret"},
                        limits_extra="login_timeout_s = %d" % login_timeout_s)
    server.start()
    lifetimes, failures = [], []

    async def drip(i):
        conn = await Pop3Conn.open(server.port, addresses[i // PER_ADDRESS], 30)
        opened = time.monotonic()
        try:
            greeting = await conn.line()
            if not greeting.startswith(b"+OK"):
                failures.append("greeting %r" % greeting[:100])
                return
            payload = b"USER " + b"x" * 200  # below the 255-octet line limit, never ended
            for byte in payload:
                if time.monotonic() - opened > login_timeout_s + CLOSE_SLACK_S:
                    failures.append("still open after %.1f s" % (time.monotonic() - opened))
                    return
                try:
                    conn.writer.write(bytes([byte]))
                    await conn.writer.drain()
                except (ConnectionResetError, BrokenPipeError):
                    break
                if await conn.wait_closed_by_server(1.0):
                    break
            lifetimes.append(time.monotonic() - opened)
        finally:
            conn.close()

    try:
        probe_seconds = login_timeout_s + 2
        probe = await start_probe(server.port, "alice", "secret", probe_seconds)
        await asyncio.gather(*(drip(i) for i in range(connections)))
        await finish_probe(probe, result, "normal client", max_probe_latency_s)
        result.figure("slow connections", "%d from %d addresses, 1 byte/s" % (
            connections, len(addresses)))
        result.figure("login_timeout_s", login_timeout_s)
        if lifetimes:
            result.figure("closed after min/max", "%.1f s / %.1f s" % (min(lifetimes),
                                                                         max(lifetimes)))
        result.figure("timeout log lines", len(server.log_lines("timeout")))
        result.check(not failures, "%d slow connections misbehaved, first: %s" % (
            len(failures), failures[:1]))
        result.check(len(lifetimes) == connections, "%d of %d closed by the server" % (
            len(lifetimes), connections))
        result.check(not lifetimes or min(lifetimes) >= login_timeout_s - 0.5,
                     "one closed early, after %.1f s" % min(lifetimes or [0]))
        result.check(not lifetimes or max(lifetimes) <= login_timeout_s + CLOSE_SLACK_S,
                     "one closed late, after %.1f s" % max(lifetimes or [0]))
        result.check(server.proc.poll() is None, "server exited")
    finally:
        server.cleanup()
    return result
