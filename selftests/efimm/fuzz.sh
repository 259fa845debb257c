#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Seeded random efi_test ioctls (./fuzz), the same cases on the kernel's
# path and routed through efimm: every case ends with the same return
# value, errno, firmware status and returned data on both paths, and the
# kernel log stays clean (the runner checks it).
#
# EFIMM_FUZZ_SEED and EFIMM_FUZZ_CASES override the seed and the count.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

SEED=${EFIMM_FUZZ_SEED:-20261122}
CASES=${EFIMM_FUZZ_CASES:-2000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

run_cases() {
	echo "$1" >"$EFIMM_DEBUGFS/route" && ./fuzz "$SEED" "$CASES" "$2"
}

# Firmware calls by the kernel's path so far, counted at its own bracket
# (watch_kernel_path): efi_test's, unrouted.
kernel_path_calls() {
	counter kernel.watched_calls
}

test_same_outcomes() {
	local calls before kernel
	echo 1 >"$EFIMM_DEBUGFS/watch_kernel_path" || return 1
	before=$(kernel_path_calls)
	run_cases 0 "$WORK/kernel" || return 1
	kernel=$(($(kernel_path_calls) - before))
	echo 0 >"$EFIMM_DEBUGFS/watch_kernel_path"
	echo 0 >"$EFIMM_DEBUGFS/counters"
	run_cases 1 "$WORK/efimm" || return 1
	echo 0 >"$EFIMM_DEBUGFS/route"
	calls=$(awk '$1 ~ /^efimm\..*\.calls$/ { n += $2 } END { print n + 0 }' \
		"$EFIMM_DEBUGFS/counters")
	# The rest efi_test refuses before any call (bad pointers, sizes).
	echo "# seed $SEED: $CASES cases per path; reached the firmware: $kernel by the" \
		"kernel's path, $calls through efimm"
	echo "# outcomes (errno firmware-status: cases):"
	awk '{ print $4, $5 }' "$WORK/efimm" | sort | uniq -c | sort -rn | head -12 |
		awk '{ printf "#   %s %s: %s\n", $2, $3, $1 }'
	if ! diff -q "$WORK/kernel" "$WORK/efimm" >/dev/null; then
		echo "# cases that differ (case cmd ret errno status digest):"
		diff "$WORK/kernel" "$WORK/efimm" | head -20 | sed 's/^/#   /'
		return 1
	fi
	[ "$calls" -gt 0 ] && [ "$kernel" -gt 0 ]
}

require_lowmap
ktap_print_header
efimm_load && efi_test_load || ktap_exit_fail_msg "cannot load efimm and efi_test"
ktap_set_plan 1
ktap_test_result "$CASES random efi_test ioctls: same outcome on the kernel's path and through efimm" \
	test_same_outcomes
ktap_finished
