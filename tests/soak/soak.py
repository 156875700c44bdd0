#!/usr/bin/env python3
"""The load and abuse soak (issue 7): starts its own `poplar serve` on loopback for each
scenario and prints figures and a PASS/FAIL verdict per scenario; exits 1 if any failed.
docs/reliability.md describes the scenarios and holds the figures of a real run.

    python3 tests/soak/soak.py --bin build/release/poplar [--seconds N] [--scenario NAME]...

Scenarios: idle, sessions, slowloris, flood, guessing (default: all, in that order).
Thread-safety: a single process and event loop. Must never: connect beyond 127.0.0.1/8, or
leave a server running (each scenario stops its own).
"""

import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario_flood  # noqa: E402
import scenario_guessing  # noqa: E402
import scenario_idle  # noqa: E402
import scenario_sessions  # noqa: E402
import scenario_slowloris  # noqa: E402

NAMES = ("idle", "sessions", "slowloris", "flood", "guessing")


def scenario(name, args):
    """The coroutine for one scenario at the sizes the arguments ask for."""
    if name == "idle":
        return scenario_idle.run(args.bin, connections=args.idle)
    if name == "sessions":
        return scenario_sessions.run(args.bin, sessions=args.sessions, seconds=args.seconds)
    if name == "slowloris":
        return scenario_slowloris.run(args.bin, connections=args.slowloris,
                                      login_timeout_s=args.login_timeout)
    if name == "flood":
        return scenario_flood.run(args.bin, seconds=args.flood_seconds)
    return scenario_guessing.run(args.bin, guesses=args.guesses)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default="build/release/poplar", help="the poplar binary")
    parser.add_argument("--scenario", action="append", choices=NAMES,
                        help="run only this scenario (repeatable)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="how long the sessions scenario loops (default 60)")
    parser.add_argument("--idle", type=int, default=10000, help="idle connections")
    parser.add_argument("--sessions", type=int, default=2000, help="concurrent sessions")
    parser.add_argument("--slowloris", type=int, default=200, help="slow connections")
    parser.add_argument("--login-timeout", type=int, default=10,
                        help="[limits] login_timeout_s for the slowloris scenario")
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    parser.add_argument("--guesses", type=int, default=5, help="wrong passwords to try")
    args = parser.parse_args()
    if not os.access(args.bin, os.X_OK):
        parser.error("%s is not an executable (build it: make build)" % args.bin)
    args.bin = os.path.abspath(args.bin)

    print("soak: %s, %d CPUs, load average %s" % (args.bin, os.cpu_count(),
                                                  " ".join("%.2f" % l for l in os.getloadavg())))
    failed = []
    for name in args.scenario or NAMES:
        started = time.monotonic()
        result = asyncio.run(scenario(name, args))
        print(result.text())
        print("   (%.1f s)" % (time.monotonic() - started), flush=True)
        if not result.passed:
            failed.append(name)
    print("soak: %s" % ("FAIL: " + ", ".join(failed) if failed else "all PASS"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
