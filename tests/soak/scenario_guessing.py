"""Soak scenario "guessing": wrong passwords for one user from one address. Each failure's
reply must come later than the one before (the [auth] failure_delay_s delay doubles per
recent failure, capped at 15 s), the log must hold exactly one auth-failed line per attempt
and never a tried password, and the right password from another address must still work at
once.

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
MAX_DELAY_S = 15.0  # failure_throttle.h: the fixed cap on any delay
SLACK_S = 1.5  # a loaded machine answers late, never early


def expected_delay(base_s, attempt):
    return min(base_s * (2 ** attempt), MAX_DELAY_S)


async def run(binary, guesses=5, failure_delay_s=1):
    result = Result("guessing")
    right = "right-%s" % uuid.uuid4().hex[:12]  # distinctive, so a leak cannot be missed
    server = SoakServer(binary, {"alice": right}, failure_delay_s=failure_delay_s)
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
        log = server.log_text()
        leaked = [p for p in tried + [right] if p in log]
        result.figure("passwords in the log", len(leaked))
        result.check(not leaked, "the log holds tried passwords: %s" % leaked)
        result.check(server.proc.poll() is None, "server exited")
    finally:
        server.cleanup()
    return result
