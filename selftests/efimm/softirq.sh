#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# No softirq runs on top of the firmware. An interrupt that lands in the
# firmware returns through irq_exit(), which runs pending softirqs
# (tasklets, timers, RCU callbacks, network receive) right there, on the
# firmware's stack, with the kernel's hardening set aside for the
# firmware (IBT, LASS, hardware breakpoints) and its 1:1 mappings live.
# The kernel's path keeps softirqs off for its whole call (its FPU section
# disables them); efimm's calls are preemptible, and its CPUs hand their
# softirqs to ksoftirqd while the firmware runs.
#
# Judged from outside efimm, by the CPU's own DR7: the efimm_softirq test
# module keeps a hardware breakpoint registered, which the firmware's CPU
# state disables, and counts the runs of a 1 ms hard interrupt timer on
# each CPU and of the tasklet, timer and RCU callback it raises that find
# it disabled. The real firmware's GetTime is rewritten (efimm_hostile,
# "arm spin") into a 250 ms loop and called through each path: the hard
# interrupts must find the firmware running (the probe saw it), their
# softirqs never.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

HOSTILE_KO=$(dirname "$0")/mmprobe/efimm_hostile.ko
PROBE_KO=$(dirname "$0")/mmprobe/efimm_softirq.ko
HOSTILE=/sys/kernel/debug/efimm_hostile
PROBE=/sys/kernel/debug/efimm_softirq
CALLS=4

# probe_count KIND COLUMN: runs (2) or runs in the firmware's state (3).
probe_count() {
	awk -v k="$1" -v c="$2" '$1 == k { print $c }' "$PROBE"
}

# The positive control: a tasklet run with DR7's enable bits cleared, as
# the firmware's CPU state clears them, is counted as such.
test_probe_sees_the_firmware_state() {
	echo selftest >"$PROBE" || return 1
	echo "# selftest: $(probe_count selftest 2) runs, $(probe_count selftest 3) in the firmware's state"
	[ "$(probe_count selftest 2)" = 1 ] && [ "$(probe_count selftest 3)" = 1 ]
}

# softirqs_kept_off PATH: CALLS spinning GetTimes through PATH (efimm or
# kernel) while the probe runs.
softirqs_kept_off() {
	local kind ok=1
	echo start >"$PROBE" || return 1
	echo "get_time $CALLS $1" >"$EFIMM_DEBUGFS/bench" || ok=0
	echo stop >"$PROBE" || return 1
	[ "$(bench_value errors)" = 0 ] || ok=0
	for kind in hardirq tasklet timer rcu; do
		echo "# $1 path: $kind: $(probe_count $kind 2) runs," \
			"$(probe_count $kind 3) in the firmware's state"
		[ "$(probe_count $kind 2)" -gt 0 ] || ok=0
	done
	[ "$(probe_count hardirq 3)" -gt 0 ] || ok=0
	for kind in tasklet timer rcu; do
		[ "$(probe_count $kind 3)" = 0 ] || ok=0
	done
	[ $ok = 1 ]
}

test_kernel_path() {
	softirqs_kept_off kernel
}

test_efimm_path() {
	softirqs_kept_off efimm
}

require_lowmap
ktap_print_header
efimm_unload && efimm_load route=0 || ktap_exit_fail_msg "cannot load efimm"
insmod "$PROBE_KO" || ktap_exit_fail_msg "cannot load efimm_softirq"
if ! insmod "$HOSTILE_KO" || ! echo "arm spin" >"$HOSTILE"; then
	rmmod efimm_softirq
	ktap_exit_fail_msg "cannot rewrite the firmware's GetTime"
fi
ktap_set_plan 3
ktap_test_result "the probe counts a softirq run inside the firmware's CPU state" \
	test_probe_sees_the_firmware_state
ktap_test_result "the kernel's path: no softirq runs on top of the firmware" \
	test_kernel_path
ktap_test_result "efimm's preemptible calls: no softirq runs on top of the firmware" \
	test_efimm_path
echo disarm >"$HOSTILE"
rmmod efimm_hostile efimm_softirq
efimm_unload
ktap_finished
