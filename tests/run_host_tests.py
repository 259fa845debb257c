#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the host unit tests, one PASS/FAIL line each, then "passed N failed N"."""

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


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py")
    runner = unittest.TextTestRunner(resultclass=Lines, verbosity=0,
                                     stream=open(os.devnull, "w"))
    res = runner.run(suite)
    for test, tb in res.failures + res.errors:
        print(f"--- {test.id()}\n{tb}", file=sys.stderr)
    failed = len(res.failures) + len(res.errors)
    print(f"passed {res.testsRun - failed} failed {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
