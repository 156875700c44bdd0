"""Counts GoogleTest cases in the output of `ctest -V` (tests/run_all uses it).

A CTest test is either one GoogleTest case (gtest_discover_tests) or a whole GoogleTest binary
(POPLAR_TESTS_PER_BINARY, the asan-ubsan preset); other CTest tests (the fuzz corpus replays)
count as one case each. For a test whose output has GoogleTest's summary, its PASSED and FAILED
counts are used, and a test CTest calls failed without a failed case (a crash or a sanitizer
report after the last case) adds one failure. Skipped cases count as neither.

    python3 tests/count_ctest.py ctest-verbose.log

prints "cases: P passed, F failed, S skipped" and then one "FAILED: name" line per failure;
exits 1 when nothing was counted (the log is not ctest -V output).
"""

import re
import sys

OUTPUT = re.compile(r"^(\d+): (.*)$")
RESULT = re.compile(r"^\s*\d+/\d+ Test\s+#(\d+): (.*?) \.{3,}\s*(\S.*?)\s+[0-9.]+ sec")
PASSED = re.compile(r"^\[  PASSED  \] (\d+) tests?\.")
FAILED_COUNT = re.compile(r"^\[  FAILED  \] (\d+) tests?, listed below")
FAILED_CASE = re.compile(r"^\[  FAILED  \] ([^ ]+)")
SKIPPED = re.compile(r"^\[  SKIPPED \] (\d+) tests?[,.]")


def main(path):
    outputs = {}
    results = {}
    with open(path, errors="replace") as log:
        for line in log:
            line = line.rstrip("\n")
            match = RESULT.match(line)
            if match:
                results[match.group(1)] = (match.group(2), match.group(3))
                continue
            match = OUTPUT.match(line)
            if match:
                outputs.setdefault(match.group(1), []).append(match.group(2))
    if not results:
        print("cases: no CTest results found")
        return 1
    passed = failed = skipped = 0
    failures = []
    for number, (name, status) in sorted(results.items(), key=lambda item: int(item[0])):
        ok = status == "Passed"
        lines = outputs.get(number, [])
        p = f = s = 0
        summary = False
        cases = []
        for text in lines:
            if m := PASSED.match(text):
                p, summary = int(m.group(1)), True
            elif m := FAILED_COUNT.match(text):
                f, summary = int(m.group(1)), True
            elif m := SKIPPED.match(text):
                s = int(m.group(1))
            elif (m := FAILED_CASE.match(text)) and not m.group(1)[0].isdigit():
                cases.append(m.group(1).rstrip(","))
        if summary or s:
            passed, failed, skipped = passed + p, failed + f, skipped + s
            if f:
                failures.extend(f"{name}: {case}" for case in dict.fromkeys(cases))
            if not ok and f == 0 and "Skipped" not in status and not (s and not p):
                failed += 1
                failures.append(f"{name}: {status} after its cases ran")
        elif ok:
            passed += 1
        elif "Skipped" in status or "Disabled" in status:
            skipped += 1
        else:
            failed += 1
            failures.append(f"{name}: {status}")
    print(f"cases: {passed} passed, {failed} failed, {skipped} skipped")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
