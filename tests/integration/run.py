"""Runs every integration test (tests/integration/test_*.py) against POPLAR_BIN.

Each test file runs in a process of its own, POPLAR_TEST_JOBS of them at a time (default: twice
the CPU count, at least 2). The tests mostly wait (for servers to start, for timeouts, for
clients), so running files side by side shortens `make test` without making them compete for
CPU much; each file starts its own servers on free loopback ports, so they do not interfere.
POPLAR_TEST_JOBS=1 runs them one after the other, as before.

    python3 tests/integration/run.py                 # every test_*.py
    python3 tests/integration/run.py test_pop4_*.py  # a glob of file names

Prints each file's output when it ends, then "integration: N passed, M failed, S skipped" last;
exits non-zero on any failure or error.
"""

import concurrent.futures
import fnmatch
import os
import re
import subprocess
import sys
import time
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

SUMMARY = re.compile(r"^integration-file: (\d+) passed, (\d+) failed, (\d+) skipped$", re.M)


class ResultWithServerLogs(unittest.TextTestResult):
    """Adds the last lines of the log of every server the failing test started to its report."""

    def startTest(self, test):
        import harness  # the test files import it too; one module, one list
        harness.STARTED_SERVERS.clear()
        super().startTest(test)

    def _with_logs(self, err):
        import harness
        exc_type, value, tb = err
        tails = []
        for server in harness.STARTED_SERVERS:
            lines = server.log_text().splitlines()[-25:]
            tails.append(f"--- last lines of {server.log_path}:\n" + "\n".join(lines))
        if not tails:
            return err
        try:
            value = exc_type(f"{value}\n" + "\n".join(tails))
        except Exception:  # an exception type that takes other arguments: leave it alone
            return err
        return (exc_type, value, tb)

    def addFailure(self, test, err):
        super().addFailure(test, self._with_logs(err))

    def addError(self, test, err):
        super().addError(test, self._with_logs(err))


def run_one(file_name):
    """In the child: runs one file's tests and prints its summary line."""
    suite = unittest.defaultTestLoader.discover(here, pattern=file_name)
    runner = unittest.TextTestRunner(verbosity=2, stream=sys.stdout,
                                     resultclass=ResultWithServerLogs)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"integration-file: {passed} passed, {failed} failed, {len(result.skipped)} skipped")
    return 0 if failed == 0 else 1


def run_file(file_name):
    started = time.monotonic()
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", file_name],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    output = child.stdout.decode("utf-8", "replace")
    match = SUMMARY.search(output)
    if match:
        counts = tuple(int(g) for g in match.groups())
    else:  # the file did not even load or the child crashed: one failure
        counts = (0, 1, 0)
    if child.returncode != 0 and counts[1] == 0:
        counts = (counts[0], 1, counts[2])
    return file_name, counts, output, time.monotonic() - started


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        return run_one(sys.argv[2])
    if not os.path.exists(os.environ.get("POPLAR_BIN", "build/debug/poplar")):
        print("integration: POPLAR_BIN does not exist")
        print("integration: 0 passed, 1 failed")
        return 1
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    files = sorted(f for f in os.listdir(here) if fnmatch.fnmatch(f, pattern))
    # Longest files first (a rough proxy for running time), so the pool ends together.
    files.sort(key=lambda f: -os.path.getsize(os.path.join(here, f)))
    jobs = int(os.environ.get("POPLAR_TEST_JOBS", "0")) or max(2, 2 * (os.cpu_count() or 1))
    totals = [0, 0, 0]
    timings = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for file_name, counts, output, seconds in pool.map(run_file, files):
            print(f"===== {file_name} ({seconds:.1f} s)")
            sys.stdout.write(output)
            sys.stdout.flush()
            for i in range(3):
                totals[i] += counts[i]
            timings.append((seconds, file_name))
    timings.sort(reverse=True)
    print("integration: slowest files: " +
          ", ".join(f"{name} {seconds:.0f} s" for seconds, name in timings[:5]))
    print(f"integration: {len(files)} files in {time.monotonic() - started:.0f} s "
          f"with {jobs} at a time")
    print(f"integration: {totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 0 if totals[1] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
