"""What a soak scenario hands back (figures and a PASS/FAIL verdict with its reason), and the
helper that runs soak_probe.py beside a scenario.

Thread-safety: plain data; run_probe is a coroutine for the scenario's event loop.
Must never: report PASS with a reason that hides a failed check (a scenario fails on its
first unmet check and says which).
"""

import asyncio
import json
import os
import sys

from soak_client import ms, percentile

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "soak_probe.py")


class Result:
    def __init__(self, name):
        self.name = name
        self.figures = []  # (label, text), in the order measured
        self.failures = []

    def figure(self, label, value):
        self.figures.append((label, str(value)))

    def check(self, ok, reason):
        if not ok:
            self.failures.append(reason)
        return ok

    @property
    def passed(self):
        return not self.failures

    def text(self):
        lines = ["== scenario %s" % self.name]
        lines += ["   %-34s %s" % (label + ":", value) for label, value in self.figures]
        if self.passed:
            lines.append("   PASS")
        else:
            lines.append("   FAIL: " + "; ".join(self.failures))
        return "\n".join(lines)


async def start_probe(port, user, password, seconds, pause=0.2):
    return await asyncio.create_subprocess_exec(
        sys.executable, PROBE, str(port), user, password, str(seconds), str(pause),
        stdout=asyncio.subprocess.PIPE)


async def finish_probe(proc, result, label, max_latency_s):
    """Collects a probe's figures into `result` and checks that it was served throughout:
    at least one session, no errors, every session within max_latency_s."""
    out, _ = await proc.communicate()
    data = json.loads(out.decode() or '{"latencies": [], "errors": ["probe printed nothing"]}')
    lat = data["latencies"]
    result.figure(label + " sessions", "%d ok, %d errors" % (len(lat), len(data["errors"])))
    if lat:
        result.figure(label + " latency p50/p99/max", "%s / %s / %s" % (
            ms(percentile(lat, 50)), ms(percentile(lat, 99)), ms(max(lat))))
    result.check(lat and not data["errors"],
                 "%s: %d errors, first: %s" % (label, len(data["errors"]), data["errors"][:1]))
    result.check(not lat or max(lat) <= max_latency_s,
                 "%s: slowest session %s > %s" % (label, ms(max(lat) if lat else 0),
                                                  ms(max_latency_s)))
