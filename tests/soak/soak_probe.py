"""A well-behaved client measured while a scenario abuses the server: loops
login/STAT/QUIT from 127.0.0.1 for a given time and prints one JSON object (latencies in
seconds, errors) on stdout.

It runs as a process of its own so that the abusing event loop, busy with thousands of
sockets, does not add its own delays to the figure. Must never: run longer than --seconds
plus one session's timeout.

    python3 soak_probe.py PORT USER PASSWORD SECONDS [PAUSE]
"""

import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak_client import login_stat_quit  # noqa: E402


async def probe(port, user, password, seconds, pause):
    latencies, errors = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            latencies.append(await login_stat_quit(port, user, password, "127.0.0.1"))
        except (AssertionError, OSError, EOFError, asyncio.TimeoutError) as e:
            errors.append("%s: %s" % (type(e).__name__, e))
        await asyncio.sleep(pause)
    return {"latencies": latencies, "errors": errors}


def main():
    port, user, password, seconds = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    pause = float(sys.argv[5]) if len(sys.argv) > 5 else 0.2
    print(json.dumps(asyncio.run(probe(port, user, password, seconds, pause))))


if __name__ == "__main__":
    main()
