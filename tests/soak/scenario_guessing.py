"""Soak scenario "guessing": wrong passwords for one user from one address. Each failure's
reply must come later than the one before (the [auth] failure_delay_s delay doubles per
recent failure, capped at 15 s), the log must hold exactly one auth-failed line per attempt
and never a tried password, and the right password from another address must still work at
once. Then the parallel part: `parallel` connections from one other address guess another
user's password in a loop for `parallel_seconds`; the address's checks run one turn apart
(src/auth/failure_throttle.h), so it gets no more passwords checked than one connection
guessing alone, and attempts whose turn is too far away are refused at once with [SYS/TEMP]
(the client here waits 0.5 s after a refusal, as a polite one would).

Thread-safety: one event loop. Must never: try more guesses than asked (each costs seconds).
"""

import asyncio
import time
import uuid

from soak_client import Pop3Conn, login_stat_quit
from soak_report import Result
from soak_server import SoakServer

ATTACKER = "127.0.0.7"
OWNER = "127.0.0.8"
PARALLEL_ATTACKER = "127.0.0.9"
REFUSAL_BACKOFF_S = 0.5
MAX_DELAY_S = 15.0  # failure_throttle.h: the fixed cap on any delay
SLACK_S = 1.5  # a loaded machine answers late, never early


def expected_delay(base_s, attempt):
    return min(base_s * (2 ** attempt), MAX_DELAY_S)


def most_checks(base_s, seconds):
    """The most passwords one address can have checked in `seconds`, however many connections
    it uses: the turns of a lone guesser (0, d1, d1+d2, ...; d capped), plus 2 for the checks
    of a fresh address that race on the two I/O threads before its first failure is known."""
    turns, at, attempt = 0, 0.0, 0
    while at <= seconds:
        turns += 1
        at += expected_delay(base_s, attempt)
        attempt += 1
    return turns + 2


async def guess_in_parallel(port, connections, seconds, tried):
    """`connections` connections from PARALLEL_ATTACKER guess bob's password until `seconds`
    have passed (reconnecting when the server closes); returns (checked, refused): the
    -ERR [AUTH] replies (passwords the server checked) and the -ERR [SYS/TEMP] refusals."""
    deadline = time.monotonic() + seconds
    counts = {"checked": 0, "refused": 0}

    async def worker():
        conn = None
        while time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = await Pop3Conn.open(port, PARALLEL_ATTACKER)
                    if not (await conn.line()).startswith(b"+OK"):  # over the per-IP cap
                        raise EOFError("refused at connect")
                    await conn.cmd("USER bob")
                password = "guess-%s" % uuid.uuid4().hex[:16]
                tried.append(password)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                reply = await conn.cmd("PASS " + password, remaining)
                if reply.startswith(b"-ERR [AUTH]"):
                    counts["checked"] += 1
                elif reply.startswith(b"-ERR [SYS/TEMP]"):
                    counts["refused"] += 1
                    await asyncio.sleep(REFUSAL_BACKOFF_S)
                if await conn.wait_closed_by_server(0.01):
                    conn.close()
                    conn = None
            except (asyncio.TimeoutError, EOFError, OSError):
                if conn is not None:
                    conn.close()
                    conn = None
                await asyncio.sleep(0.1)
        if conn is not None:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return counts["checked"], counts["refused"]


async def run(binary, guesses=5, failure_delay_s=1, parallel=50, parallel_seconds=60.0):
    result = Result("guessing")
    right = "right-%s" % uuid.uuid4().hex[:12]  # distinctive, so a leak cannot be missed
    server = SoakServer(binary, {"alice": right, "bob": right + "-bob"},
                        failure_delay_s=failure_delay_s)
    server.start()
    tried = ["guess-%s-%d" % (uuid.uuid4().hex[:12], i) for i in range(guesses)]
    delays = []
    try:
        conn = None
        for i, password in enumerate(tried):
            if conn is None:
                conn = await Pop3Conn.open(server.port, ATTACKER)
                await conn.line()
            result.check((await conn.cmd("USER alice")).startswith(b"+OK"), "USER refused")
            started = time.monotonic()
            reply = await conn.cmd("PASS " + password, MAX_DELAY_S + 30)
            delays.append(time.monotonic() - started)
            result.check(reply.startswith(b"-ERR"), "wrong password %d got %r" % (i, reply))
            if await conn.wait_closed_by_server(0.05):  # [auth] max_failures reached
                conn.close()
                conn = None
        if conn is not None:
            conn.close()
        result.figure("wrong passwords", "%d from %s, failure_delay_s = %d" % (
            guesses, ATTACKER, failure_delay_s))
        result.figure("reply delays", ", ".join("%.2f s" % d for d in delays))
        for i, delay in enumerate(delays):
            want = expected_delay(failure_delay_s, i)
            result.check(want - 0.05 <= delay <= want + SLACK_S,
                         "failure %d answered after %.2f s, expected %.0f s" % (i + 1, delay,
                                                                                 want))
        result.check(all(b > a for a, b in zip(delays, delays[1:]) if b < MAX_DELAY_S),
                     "the delay did not grow: %s" % delays)

        try:
            latency = await login_stat_quit(server.port, "alice", right, OWNER)
            result.figure("right password from " + OWNER, "ok in %.1f ms" % (latency * 1000))
            result.check(latency < 1.0 + SLACK_S, "the right password took %.2f s" % latency)
        except (AssertionError, OSError, EOFError, asyncio.TimeoutError) as e:
            result.check(False, "the right password from another address failed: %s" % e)

        failed_lines = [l for l in server.log_lines("auth-failed") if "user=alice" in l]
        result.figure("auth-failed log lines", len(failed_lines))
        result.check(len(failed_lines) == guesses, "%d auth-failed lines for %d attempts" % (
            len(failed_lines), guesses))

        if parallel:
            checked, refused = await guess_in_parallel(server.port, parallel, parallel_seconds,
                                                       tried)
            rate = checked / parallel_seconds
            result.figure("parallel guessing", "%d connections from %s for %.0f s" % (
                parallel, PARALLEL_ATTACKER, parallel_seconds))
            result.figure("passwords checked", "%d (%.2f/s)" % (checked, rate))
            result.figure("refused at once ([SYS/TEMP])", refused)
            # Counted are the checks answered within the time. Without turns every connection
            # got its own guesses: about 3/s at the cap with 50 connections.
            bound = most_checks(failure_delay_s, parallel_seconds)
            result.check(checked <= bound, "%d passwords checked in %.0f s (at most %d)" % (
                checked, parallel_seconds, bound))
            throttled = server.log_lines("auth-throttled")
            result.figure("auth-throttled log lines", len(throttled))
            result.check(not refused or len(throttled) <= parallel_seconds + 1,
                         "%d auth-throttled lines in %.0f s" % (len(throttled),
                                                                 parallel_seconds))

        log = server.log_text()
        leaked = [p for p in tried + [right, right + "-bob"] if p in log]
        result.figure("passwords in the log", len(leaked))
        result.check(not leaked, "the log holds tried passwords: %s" % leaked)
        result.check(server.proc.poll() is None, "server exited")
    finally:
        server.cleanup()
    return result
