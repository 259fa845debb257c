#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host unit tests of the project's pure logic: the module's Rust logic
# (tests/host, with cargo) and the scripts' (tests/test_*.py). Prints one
# PASS/FAIL/SKIP line per test and ends with "passed N failed N skipped N".

. "$(dirname "$0")/lib.sh"

pass=0
fail=0
skip=0

log=$(mktemp)
trap 'rm -f "$log"' EXIT
CARGO_TARGET_DIR=$EFIMM_CACHE/host-target \
	cargo test --offline --manifest-path "$EFIMM_TOP/tests/host/Cargo.toml" \
	>"$log" 2>&1 || true
while read -r _ name _ result; do
	case "$result" in
	ok) echo "PASS host: rust::$name"; pass=$((pass + 1)) ;;
	FAILED) echo "FAIL host: rust::$name"; fail=$((fail + 1)) ;;
	ignored) echo "SKIP host: rust::$name"; skip=$((skip + 1)) ;;
	esac
done < <(grep -E '^test .* \.\.\. (ok|FAILED|ignored)$' "$log")
if ! grep -q '^test result: ok' "$log"; then
	sed -n '/^failures:/,$p' "$log" | head -n 60 >&2
	grep -q '^test result:' "$log" || {
		tail -n 30 "$log" >&2
		echo "FAIL host: rust tests did not build"
		fail=$((fail + 1))
	}
fi

py=$(python3 "$EFIMM_TOP"/tests/run_host_tests.py) || true
grep -v '^passed ' <<<"$py"
if [[ "$(tail -n 1 <<<"$py")" =~ ^passed\ ([0-9]+)\ failed\ ([0-9]+)\ skipped\ ([0-9]+)$ ]]; then
	pass=$((pass + BASH_REMATCH[1]))
	fail=$((fail + BASH_REMATCH[2]))
	skip=$((skip + BASH_REMATCH[3]))
else
	echo "FAIL host: the Python tests did not finish"
	fail=$((fail + 1))
fi

echo "passed $pass failed $fail skipped $skip"
