#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Many callers at once through efimm while the kernel's own path is driven
# too: every answer is right (./concurrency checks them), no task hangs
# (the hung-task detector, at 10 s during the run, would report any task
# blocked that long; a deadlock never ends the run), and no two calls were ever
# inside the firmware at once (efimm's firmware_overlaps count, taken at
# the firmware entry of both paths, stays 0).

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

PROCS=${EFIMM_CONCURRENCY_PROCS:-8}
CALLS=${EFIMM_CONCURRENCY_CALLS:-100}
HUNG=/proc/sys/kernel/hung_task_timeout_secs

# The kernel's own path, through efimm's bench (which calls the kernel's
# efi.* wrappers directly even while routed) and efivarfs reads.
kernel_path_driver() {
	while :; do
		echo "get_variable 5 kernel" >"$EFIMM_DEBUGFS/bench"
		echo "get_time 5 kernel" >"$EFIMM_DEBUGFS/bench"
	done
}

test_concurrent_calls() {
	local driver rc=0 old_hung
	old_hung=$(cat $HUNG)
	echo 10 >$HUNG
	# Count the kernel path's firmware entries too.
	echo 1 >"$EFIMM_DEBUGFS/watch_kernel_path" && echo 1 >"$EFIMM_DEBUGFS/route" &&
		echo 0 >"$EFIMM_DEBUGFS/counters" || return 1
	dmesg_mark
	kernel_path_driver 2>/dev/null & driver=$!
	./concurrency "$PROCS" "$CALLS" || rc=1
	kill $driver
	wait $driver 2>/dev/null
	echo 0 >"$EFIMM_DEBUGFS/route"
	echo "$old_hung" >$HUNG
	local watched_ns
	watched_ns=$(counter kernel.get_time.max_preempt_off_ns)
	echo 0 >"$EFIMM_DEBUGFS/watch_kernel_path"
	local efimm kernel
	efimm=$(($(counter efimm.get_time.calls) + $(counter efimm.get_variable.calls) +
		$(counter efimm.set_variable.calls) + $(counter efimm.query_variable_info.calls) +
		$(counter efimm.get_next_variable.calls)))
	kernel=$(($(counter kernel.get_time.calls) + $(counter kernel.get_variable.calls)))
	echo "# efimm calls $efimm, kernel path calls $kernel meanwhile," \
		"firmware_overlaps $(counter firmware_overlaps)," \
		"kernel path's longest preemption-off GetTime ${watched_ns} ns"
	# The probes on the kernel's path saw its calls.
	[ $rc -eq 0 ] && [ "$efimm" -ge $((PROCS * CALLS)) ] && [ "$kernel" -gt 0 ] &&
		[ "$watched_ns" -gt 0 ] &&
		! dmesg_new | grep -q 'blocked for more than'
}

test_no_overlap() {
	[ "$(counter firmware_overlaps)" -eq 0 ]
}

require_lowmap
ktap_print_header
efimm_load && efi_test_load || ktap_exit_fail_msg "cannot load efimm and efi_test"
ktap_set_plan 2
ktap_test_result "$PROCS processes x $CALLS calls through efimm with the kernel's path driven: all answers right, nothing hangs" test_concurrent_calls
ktap_test_result "no two calls were ever inside the firmware at once" test_no_overlap
ktap_finished
