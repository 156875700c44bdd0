"""Soak scenario "idle": many concurrent connections that only received their greeting,
spread over loopback source addresses so the per-IP cap (50) holds unchanged. Records the
server's VmRSS before, with all open and after they close (KiB per connection); checks that
one more connection is refused at max_connections; opens them all again, four rounds in all
(with one malloc arena the RSS must not grow after round 2: what stays after a close is the
allocator's cache, not a leak); and that a normal session works after.

Thread-safety: one event loop. Must never: keep its connections beyond the scenario.
"""

import asyncio
import os
import time

from soak_client import Pop3Conn, login_stat_quit, source_addresses
from soak_report import Result
from soak_server import SoakServer, raise_open_files_limit

PER_ADDRESS = 45  # below [limits] max_connections_per_ip = 50
# The last round may find the heap a little more fragmented; growth below this is noise.
LAST_ROUND_GROWTH_KIB = 2048


async def open_all(server, addresses, connections, in_flight):
    """Opens `connections` connections and reads each greeting; returns (conns, failures)."""
    gate = asyncio.Semaphore(in_flight)
    conns, failures = [], []

    async def open_one(i):
        async with gate:
            try:
                conn = await Pop3Conn.open(server.port, addresses[i // PER_ADDRESS], 60)
            except (OSError, asyncio.TimeoutError) as e:
                failures.append("connect: %s: %s" % (type(e).__name__, e))
                return
            conns.append(conn)
            try:
                greeting = await conn.line(60)
            except (OSError, EOFError, asyncio.TimeoutError) as e:
                failures.append("greeting: %s: %s" % (type(e).__name__, e))
                return
            if not greeting.startswith(b"+OK"):
                failures.append("greeting %r" % greeting[:100])

    await asyncio.gather(*(open_one(i) for i in range(connections)))
    return conns, failures


async def close_all(server, conns, fds_before):
    """Closes our side and waits until the server holds no more descriptors than before."""
    for conn in conns:
        conn.close()
    deadline = time.monotonic() + 60
    while server.open_fds() > fds_before and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)


async def run(binary, connections=10000, in_flight=256, rounds=4):
    result = Result("idle")
    raise_open_files_limit(connections + 1024)
    addresses = source_addresses(-(-connections // PER_ADDRESS))
    # max_connections = the connection count: all of them fit, one more must be refused.
    # A long login timeout: the connections must not be closed while we measure.
    server = SoakServer(binary, {"alice": "secret"},
                        limits_extra="max_connections = %d\nlogin_timeout_s = 600" % connections)
    # One malloc arena: with glibc's default (one per thread, up to 8 x cores) the RSS grows
    # for a few rounds and then settles, at a round that varies, so a growth check would be
    # flaky; with one arena it is flat from round 2 unless something leaks (reliability.md).
    saved = os.environ.get("MALLOC_ARENA_MAX")
    os.environ["MALLOC_ARENA_MAX"] = "1"
    try:
        server.start()
    finally:
        if saved is None:
            del os.environ["MALLOC_ARENA_MAX"]
        else:
            os.environ["MALLOC_ARENA_MAX"] = saved
    result.figure("server environment", "MALLOC_ARENA_MAX=1")
    conns = []
    try:
        await asyncio.sleep(0.5)  # let start-up allocations settle before the baseline
        rss_before, fds_before = server.rss_kib(), server.open_fds()
        result.figure("server VmRSS before", "%d KiB (%d fds)" % (rss_before, fds_before))

        rss_open = []
        for round_number in range(1, rounds + 1):
            started = time.monotonic()
            conns, failures = await open_all(server, addresses, connections, in_flight)
            took = time.monotonic() - started
            result.figure("round %d connections open" % round_number,
                          "%d of %d from %d addresses in %.1f s" % (
                              len(conns) - len(failures), connections, len(addresses), took))
            if not result.check(not failures, "%d connections failed, first: %s" % (
                    len(failures), failures[:1])):
                return result
            await asyncio.sleep(1.0)
            rss_open.append(server.rss_kib())
            result.figure("round %d server VmRSS all open" % round_number,
                          "%d KiB (%d fds)" % (rss_open[-1], server.open_fds()))
            if round_number == 1:
                result.figure("per connection", "%.1f KiB" % (
                    (rss_open[0] - rss_before) / connections))
                # One more, from an address of its own: over max_connections, refused at once.
                extra = await Pop3Conn.open(server.port, "127.0.0.251")
                try:
                    reply = await extra.line(10)
                except EOFError:
                    reply = b"(closed without a reply)"
                extra.close()
                result.figure("connection %d" % (connections + 1),
                              reply.decode(errors="replace"))
                result.check(reply.startswith(b"-ERR"),
                             "connection over max_connections got %r" % reply)
            await close_all(server, conns, fds_before)
            conns = []
            result.figure("round %d server VmRSS after close" % round_number,
                          "%d KiB (%d fds)" % (server.rss_kib(), server.open_fds()))
            result.check(server.open_fds() <= fds_before, "server still holds %d fds (%d before)"
                         % (server.open_fds(), fds_before))
        if server.address_sanitized():
            result.figure("RSS growth check", "skipped: ASan build (quarantine)")
        else:
            # Round 1 may leave the heap a little fragmented; after it, growth is a leak.
            result.check(rss_open[-1] <= rss_open[1] + LAST_ROUND_GROWTH_KIB,
                         "VmRSS with all open grew after round 2: %s KiB" % rss_open)

        try:
            latency = await login_stat_quit(server.port, "alice", "secret", "127.0.0.1")
            result.figure("normal session after", "ok in %.1f ms" % (latency * 1000))
        except (AssertionError, OSError, EOFError, asyncio.TimeoutError) as e:
            result.check(False, "normal session after the idle ones failed: %s" % e)
        result.check(server.proc.poll() is None, "server exited")
    finally:
        for conn in conns:
            conn.close()
        server.cleanup()
    return result
