#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the host unit tests, one PASS/FAIL/SKIP line each, then
"passed N failed N skipped N": a skipped test is not a pass."""

import os
import sys
import unittest


class Lines(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        print(f"PASS host: {test.id()}")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        print(f"FAIL host: {test.id()}")

    def addError(self, test, err):
        super().addError(test, err)
        print(f"FAIL host: {test.id()}")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print(f"SKIP host: {test.id()} ({reason})")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        print(f"XFAIL host: {test.id()}")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        print(f"FAIL host: {test.id()} (expected to fail, passed)")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py")
    runner = unittest.TextTestRunner(resultclass=Lines, verbosity=0,
                                     stream=open(os.devnull, "w"))
    res = runner.run(suite)
    for test, tb in res.failures + res.errors:
        print(f"--- {test.id()}\n{tb}", file=sys.stderr)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped) + len(res.expectedFailures)
    print(f"passed {res.testsRun - failed - skipped} failed {failed} skipped {skipped}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
