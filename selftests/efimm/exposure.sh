#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What is mapped when. A small test module (mmprobe/) looks up an address
# in the page tables each CPU has loaded, in an IPI: after calls, at idle,
# no CPU has the firmware mapped (efimm leaves its mm, and does not linger
# in it lazily); while calls run, the probe does see it. And a hardware
# breakpoint armed on every CPU does not fire inside an efimm call, as
# the kernel's path disables breakpoints while efi_mm is loaded.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

PROBE=/sys/kernel/debug/efimm_mmprobe
PROBE_KO=$(dirname "$0")/mmprobe/efimm_mmprobe.ko

# The start of the first runtime code region: firmware that every mm but
# efimm's leaves unmapped.
runtime_code_addr() {
	awk '/type=.*[Cc]ode/ { split($1, r, "-"); print r[1]; exit }' \
		"$EFIMM_DEBUGFS/regions"
}

# SEEN: the CPUs that have the address last written to the probe mapped.
# Builtins only: no new process runs (and switches a CPU's mm) to read it.
probe() {
	local line lines
	SEEN=
	mapfile -t lines <"$PROBE"
	for line in "${lines[@]}"; do
		[ "${line#* }" = 1 ] && SEEN="$SEEN${line% *} "
	done
	true
}

# Right after calls, and after a pause: a CPU that ran them and then went
# idle, or ran another kernel thread, must not keep the firmware loaded
# (lazy TLB mode keeps the last mm).
test_idle_after_calls() {
	local addr i
	addr=$(runtime_code_addr)
	[ -n "$addr" ] || return 1
	echo "$addr" >"$PROBE" || return 1
	for i in $(seq 50); do
		echo "get_time 3 efimm" >"$EFIMM_DEBUGFS/bench" || return 1
		probe
		if [ -n "$SEEN" ]; then
			echo "# $addr still mapped after calls on: $SEEN(round $i)"
			return 1
		fi
	done
	sleep 1
	probe
	[ -z "$SEEN" ] || { echo "# $addr mapped at idle on: $SEEN"; return 1; }
	echo "# $addr mapped on no CPU right after calls (50 rounds) and at idle"
}

# The firmware is preemptible: a prober that ran on the efimm thread's CPU
# would preempt it and find that CPU in the prober's own mm. So the
# thread runs on CPU 1 and this shell, the prober, on CPU 0. The calls are
# efimm's spin calls, ~150 ms each in efimm's mm with interrupts on: with
# 3000 GetTime calls, ~65 us each and most of it hand-offs, 2000 looks
# once saw none on a loaded host (two VMs on two cores).
test_seen_during_calls() {
	local addr pid looks=0 efimm all
	all=0-$(($(nproc) - 1))
	efimm=$(pgrep -x efimm) || return 1
	taskset -cp 1 "$efimm" >/dev/null && taskset -cp 0 $$ >/dev/null || return 1
	addr=$(runtime_code_addr)
	echo "$addr" >"$PROBE" || return 1
	echo "spin 20 efimm" >"$EFIMM_DEBUGFS/bench" &
	pid=$!
	SEEN=
	while kill -0 $pid 2>/dev/null && [ $looks -lt 2000 ] && [ -z "$SEEN" ]; do
		looks=$((looks + 1))
		probe
	done
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	taskset -cp "$all" $$ >/dev/null
	taskset -cp "$all" "$efimm" >/dev/null
	echo "# after $looks looks: mapped on '$SEEN'"
	[ -n "$SEEN" ]
}

# The control for the test below: armed the same way at a kernel function
# every write runs through, the breakpoint fires during the same calls.
test_breakpoint_fires_at_kernel_code() {
	local addr hits
	addr=$(awk '$3 == "ksys_write" { print "0x" $1; exit }' /proc/kallsyms)
	[ -n "$addr" ] && [ "$addr" != 0x0000000000000000 ] || return 1
	hits=$(./hwbp "$addr" "echo 'null 100 efimm' >$EFIMM_DEBUGFS/bench") || return 1
	echo "# 100 null calls through efimm, breakpoint at ksys_write: $hits hits"
	[ "$hits" -gt 0 ]
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
ktap_set_plan 4
ktap_test_result "after calls, at idle, no CPU has the firmware mapped" test_idle_after_calls
ktap_test_result "while calls run, a CPU has the firmware mapped" test_seen_during_calls
ktap_test_result "a hardware breakpoint at kernel code fires during efimm calls" \
	test_breakpoint_fires_at_kernel_code
ktap_test_result "hardware breakpoints do not fire inside efimm calls" \
	test_no_breakpoint_in_firmware
rmmod efimm_mmprobe
efimm_unload
ktap_finished
