#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What is mapped when. A small test module (mmprobe/) looks up an address
# in the page tables each CPU has loaded, in an IPI: after calls, at idle,
# no CPU has the firmware mapped (efimm leaves its mm, and does not linger
# in it lazily); while calls run, the probe does see it. And a hardware
# breakpoint armed on every CPU does not fire inside an efimm call, as
# the kernel's path disables breakpoints while efi_mm is loaded.

. "$KSFT_DIR/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

PROBE=/sys/kernel/debug/efimm_mmprobe
PROBE_KO=$KSFT_DIR/mmprobe/efimm_mmprobe.ko

# The start of the first runtime code region: firmware that every mm but
# efimm's leaves unmapped.
runtime_code_addr() {
	awk '/type=.*[Cc]ode/ { split($1, r, "-"); print r[1]; exit }' \
		"$EFIMM_DEBUGFS/regions"
}

# CPUs that have the address last written to the probe mapped.
cpus_mapped() {
	awk '$2 == 1 { print $1 }' "$PROBE" | tr '\n' ' '
}

test_idle_after_calls() {
	local addr seen
	addr=$(runtime_code_addr)
	[ -n "$addr" ] || return 1
	echo "$addr" >"$PROBE" || return 1
	echo "get_time 50 efimm" >"$EFIMM_DEBUGFS/bench" || return 1
	echo "get_variable 50 efimm" >"$EFIMM_DEBUGFS/bench" || return 1
	sleep 1
	# Several looks, each an IPI to every CPU, most of them idle.
	for _ in $(seq 20); do
		seen=$(cpus_mapped)
		if [ -n "$seen" ]; then
			echo "# $addr mapped at idle on: $seen"
			return 1
		fi
		sleep 0.05
	done
	echo "# $addr mapped on no CPU at idle (20 looks)"
}

test_seen_during_calls() {
	local addr pid looks=0 seen=
	addr=$(runtime_code_addr)
	echo "$addr" >"$PROBE" || return 1
	echo "get_time 3000 efimm" >"$EFIMM_DEBUGFS/bench" &
	pid=$!
	while kill -0 $pid 2>/dev/null && [ $looks -lt 2000 ]; do
		looks=$((looks + 1))
		seen=$(cpus_mapped)
		[ -n "$seen" ] && break
	done
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	echo "# after $looks looks: mapped on '${seen}'"
	[ -n "$seen" ]
}

test_no_breakpoint_in_firmware() {
	local page hits
	page=$(summary null_call_page)
	[ -n "$page" ] || return 1
	# The breakpoint would fire on the null call's first instruction.
	hits=$(./hwbp "$page" "echo 'null 100 efimm' >$EFIMM_DEBUGFS/bench") || return 1
	echo "# 100 null calls through efimm, breakpoint at $page: $hits hits"
	[ "$hits" -eq 0 ]
}

require_lowmap
ktap_print_header
efimm_load || ktap_exit_fail_msg "cannot load efimm"
insmod "$PROBE_KO" || ktap_exit_fail_msg "cannot load $PROBE_KO"
ktap_set_plan 3
ktap_test_result "after calls, at idle, no CPU has the firmware mapped" test_idle_after_calls
ktap_test_result "while calls run, a CPU has the firmware mapped" test_seen_during_calls
ktap_test_result "hardware breakpoints do not fire inside efimm calls" \
	test_no_breakpoint_in_firmware
rmmod efimm_mmprobe
efimm_unload
ktap_finished
