#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host unit tests of the project's pure logic. Prints one PASS/FAIL line per
# test and ends with "passed N failed N".

. "$(dirname "$0")/lib.sh"

python3 "$EFIMM_TOP"/tests/run_host_tests.py
