"""Soak scenario "sessions": many concurrent sessions looping USER/PASS/STAT/RETR 1/QUIT for
a given time, with zero protocol errors: every reply as expected, STAT's count and size as
stored, every RETR byte-exact. Users come in pairs: two of our sessions share each user, so
the maildrop lock is exercised, and a -ERR [IN-USE] is counted apart and accepted only while
(or just after) the partner session holds that maildrop.

Thread-safety: one event loop. Must never: count an unexplained [IN-USE] as success.
"""

import asyncio
import random
import time

from soak_client import Pop3Conn, ms, percentile, source_addresses
from soak_report import Result
from soak_server import SoakServer, harness, raise_open_files_limit, user_messages

PER_ADDRESS = 40  # below [limits] max_connections_per_ip = 50
# The lock may still be held for a moment after our QUIT saw the server's close: the server
# releases it when the session object goes, which is after the last byte was sent.
RELEASE_GRACE_S = 0.5


async def run(binary, sessions=2000, seconds=60.0):
    result = Result("sessions")
    raise_open_files_limit(sessions + 1024)
    users = ["u%04d" % (i // 2) for i in range(sessions)]
    addresses = source_addresses(-(-sessions // PER_ADDRESS))
    server = SoakServer(binary, {u: "pw-" + u for u in set(users)})
    expected_stat = {}
    for user in set(users):
        stored = user_messages(user)
        expected_stat[user] = b"+OK %d %d" % (len(stored), sum(harness.wire_size(m)
                                                                 for m in stored))
    wire = {user: set(server.expected_wire(user)) for user in set(users)}
    first_retr = {}  # user -> the body RETR 1 gave first: later ones must match it
    holders = {user: 0 for user in set(users)}  # our sessions between PASS and the close
    released = {user: 0.0 for user in set(users)}
    latencies, errors = [], []
    counts = {"in_use": 0, "in_use_unexplained": 0}
    server.start()

    async def one_session(worker, user):
        started = time.monotonic()
        conn = await Pop3Conn.open(server.port, addresses[worker // PER_ADDRESS], 30)
        holding = False
        try:
            def expect(step, reply, prefix=b"+OK"):
                if not reply.startswith(prefix):
                    raise AssertionError("%s for %s: %r" % (step, user, reply[:200]))

            expect("greeting", await conn.line())
            expect("USER", await conn.cmd("USER " + user))
            holders[user] += 1
            holding = True
            reply = await conn.cmd("PASS pw-" + user)
            if reply.startswith(b"-ERR [IN-USE]"):
                counts["in_use"] += 1
                partner_held = (holders[user] > 1
                                or time.monotonic() - released[user] < RELEASE_GRACE_S)
                if not partner_held:
                    counts["in_use_unexplained"] += 1
                    raise AssertionError("[IN-USE] for %s with no other session of ours" % user)
                expect("QUIT after IN-USE", await conn.cmd("QUIT"))
                return None  # the worker backs off: the partner holds the maildrop
            expect("PASS", reply)
            stat = await conn.cmd("STAT")
            if stat != expected_stat[user]:
                raise AssertionError("STAT for %s: %r, expected %r" % (user, stat,
                                                                     expected_stat[user]))
            expect("RETR 1", await conn.cmd("RETR 1"))
            body = await conn.multiline()
            if body not in wire[user] or first_retr.setdefault(user, body) != body:
                raise AssertionError("RETR 1 for %s: %d bytes not as stored" % (user, len(body)))
            expect("QUIT", await conn.cmd("QUIT"))
            if not await conn.wait_closed_by_server(30):
                raise AssertionError("no close after QUIT for %s" % user)
            return time.monotonic() - started
        finally:
            conn.close()
            if holding:
                holders[user] -= 1
                released[user] = time.monotonic()

    async def worker(i, deadline):
        while time.monotonic() < deadline:
            try:
                latency = await one_session(i, users[i])
                if latency is not None:
                    latencies.append(latency)
                else:
                    # [IN-USE]: wait for the partner's QUIT, as a client told the maildrop is
                    # busy would, rather than turn the pair into a retry loop.
                    while holders[users[i]] > 0 and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(random.uniform(0.0, 0.05))
            except (AssertionError, OSError, EOFError, asyncio.TimeoutError) as e:
                errors.append("%s: %s" % (type(e).__name__, e))
                await asyncio.sleep(0.1)

    try:
        started = time.monotonic()
        server_cpu, own_cpu = server.cpu_seconds(), time.process_time()
        deadline = started + seconds
        await asyncio.gather(*(worker(i, deadline) for i in range(sessions)))
        took = time.monotonic() - started
        server_cpu, own_cpu = server.cpu_seconds() - server_cpu, time.process_time() - own_cpu
        result.figure("concurrent sessions", "%d (%d users, 2 sessions each, %d addresses)" % (
            sessions, len(set(users)), len(addresses)))
        result.figure("duration", "%.1f s" % took)
        result.figure("completed sessions", "%d (%.0f/s)" % (len(latencies),
                                                             len(latencies) / took))
        if latencies:
            result.figure("session latency p50/p99/max", "%s / %s / %s" % (
                ms(percentile(latencies, 50)), ms(percentile(latencies, 99)),
                ms(max(latencies))))
        # Both share 2 cores: which side was the bottleneck shows here.
        result.figure("CPU used: server / soak client", "%.1f s / %.1f s" % (server_cpu,
                                                                              own_cpu))
        result.figure("[IN-USE] replies", "%d (%d without a partner session)" % (
            counts["in_use"], counts["in_use_unexplained"]))
        result.figure("protocol errors", len(errors))
        result.check(latencies, "no session completed")
        result.check(not errors, "%d errors, first: %s" % (len(errors), errors[:3]))
        result.check(server.proc.poll() is None, "server exited")
    finally:
        server.cleanup()
    return result
