#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load/unload cycles, routed and not, with callers in flight from other
# processes: every cycle frees the dedicated mm, and the kernel's EFI users
# keep working throughout (the runner fails the run on any WARN or oops).

. "$KSFT_DIR/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

CYCLES=${EFIMM_CHURN_CYCLES:-20}
EFIVARS=/sys/firmware/efi/efivars

callers() {
	while :; do
		cat "$EFIVARS"/BootOrder-* >/dev/null 2>&1
		echo "get_time 3 efimm" >"$EFIMM_DEBUGFS/bench" 2>/dev/null
	done
}

test_cycles() {
	local i pids released
	dmesg_mark
	callers & pids=$!
	callers & pids="$pids $!"
	for i in $(seq 1 "$CYCLES"); do
		efimm_load route=$((i % 2)) || { kill $pids; return 1; }
		sleep 0.2
		efimm_unload || { kill $pids; return 1; }
	done
	kill $pids
	wait $pids 2>/dev/null
	released=$(dmesg_new | grep -c 'efimm: dedicated mm released (mm_users 0)')
	echo "# $CYCLES cycles, $released mm releases"
	[ "$released" -eq "$CYCLES" ] && ! efimm_loaded
}

test_efivarfs_still_works() {
	cat "$EFIVARS"/BootOrder-* >/dev/null
}

require_lowmap
efimm_unload
ktap_print_header
ktap_set_plan 2
ktap_test_result "$CYCLES load/unload cycles with callers in flight, each frees its mm" test_cycles
ktap_test_result "efivarfs works afterwards" test_efivarfs_still_works
ktap_finished
