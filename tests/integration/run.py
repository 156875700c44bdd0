"""Runs every integration test (tests/integration/test_*.py) against POPLAR_BIN.

Prints "integration: N passed, M failed" last; exits non-zero on any failure or error.
"""

import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)


def main():
    if not os.path.exists(os.environ.get("POPLAR_BIN", "build/debug/poplar")):
        print("integration: POPLAR_BIN does not exist")
        print("integration: 0 passed, 1 failed")
        return 1
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    suite = unittest.defaultTestLoader.discover(here, pattern=pattern)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"integration: {passed} passed, {failed} failed, {len(result.skipped)} skipped")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
