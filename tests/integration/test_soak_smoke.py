"""The load and abuse soak (tests/soak/soak.py) scaled down to seconds, so `make test` checks
every scenario on each build: 500 idle connections, 50 sessions for 5 s, 10 slowloris
connections against a 3 s login timeout, a 2 s flood from one address, and 4 wrong passwords
then 10 connections guessing in parallel from one address for 16 s (long enough that
without per-address turns they would get more checked than a lone guesser).
Latency limits are loose (the suite runs files side by side, and under ASan): the full soak
and docs/reliability.md hold the real figures. About 55 s in all.
"""

import asyncio
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "soak"))
import harness  # noqa: E402
import scenario_flood  # noqa: E402
import scenario_guessing  # noqa: E402
import scenario_idle  # noqa: E402
import scenario_sessions  # noqa: E402
import scenario_slowloris  # noqa: E402

LOOSE_LATENCY_S = 3.0


class SoakSmokeTest(unittest.TestCase):
    def run_scenario(self, coroutine):
        result = asyncio.run(coroutine)
        self.assertTrue(result.passed, "\n" + result.text())
        return dict(result.figures)

    def setUp(self):
        self.binary = os.path.abspath(harness.POPLAR_BIN)

    def test_idle_connections_then_a_normal_session(self):
        figures = self.run_scenario(scenario_idle.run(self.binary, connections=500))
        self.assertIn("500 of 500", figures["round 2 connections open"])
        self.assertTrue(figures["connection 501"].startswith("-ERR [SYS/TEMP]"))

    def test_concurrent_sessions_without_protocol_errors(self):
        figures = self.run_scenario(scenario_sessions.run(self.binary, sessions=50, seconds=5))
        self.assertEqual(figures["protocol errors"], "0")

    def test_slowloris_closed_at_login_timeout(self):
        self.run_scenario(scenario_slowloris.run(self.binary, connections=10, login_timeout_s=3,
                                                 max_probe_latency_s=LOOSE_LATENCY_S))

    def test_flood_from_one_address_holds_the_per_ip_cap(self):
        figures = self.run_scenario(scenario_flood.run(self.binary, seconds=2,
                                                       max_probe_latency_s=LOOSE_LATENCY_S))
        self.assertEqual(figures["accepted (held open)"], "50")

    def test_password_guessing_slows_down_and_logs_once_per_attempt(self):
        figures = self.run_scenario(scenario_guessing.run(self.binary, guesses=4, parallel=10,
                                                          parallel_seconds=16))
        self.assertEqual(figures["auth-failed log lines"], "4")
        self.assertIn("10 connections", figures["parallel guessing"])
        self.assertEqual(figures["passwords in the log"], "0")


if __name__ == "__main__":
    unittest.main()
