#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Callers lend their priority to what makes efimm's calls: a real-time
# caller does not wait behind a normal caller's call that a lower
# real-time task keeps off its CPU (priority inversion). lend.c builds the
# inversion from outside efimm: the real firmware's GetTime made a 250 ms
# loop (efimm_hostile, "arm spin"), efimm's thread (and the firmware task,
# at cpl3) pinned to CPU 1, whose fair server is off so that a real-time
# hog leaves normal tasks no time there. With lending off, the control,
# the inversion must show: the real-time caller's call ends after the hog.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

HOSTILE_KO=$(dirname "$0")/mmprobe/efimm_hostile.ko
HOSTILE=/sys/kernel/debug/efimm_hostile
FAIR=/sys/kernel/debug/sched/fair_server/cpu1/runtime
HOG_MS=${EFIMM_LEND_HOG_MS:-3000}

# run_lend 0|1: lend.c's exit status with lending off or on.
run_lend() {
	echo "$1" >"$EFIMM_DEBUGFS/lend_priority" || return 2
	"$(dirname "$0")/lend" 1 "$HOG_MS" | sed 's/^/# /'
	return "${PIPESTATUS[0]}"
}

# The tasks that make efimm's calls: its thread and, at cpl3, the
# firmware task it started (both "efimm").
agents() {
	pgrep -x efimm
}

# Each agent's priority, nice value, real-time priority and policy
# (/proc/PID/stat fields 18, 19, 40, 41).
sched_state() {
	local p
	for p in $(agents); do
		printf '%s ' "$(cut -d' ' -f18,19,40,41 "/proc/$p/stat" | tr ' ' :)"
	done
}

test_inversion_shows_unlent() {
	run_lend 0
	[ $? = 1 ]
}

test_lending_resolves_it() {
	run_lend 1
	[ $? = 0 ]
}

# Lent only while callers wait: afterwards every agent has its own
# scheduling attributes again, as before the calls.
test_priorities_given_back() {
	local got
	got=$(sched_state)
	echo "# agents' priority:nice:rt_priority:policy before: $before; after: $got"
	[ -n "$got" ] && [ "$got" = "$before" ]
}

test_bad_writes_refused() {
	switch_refuses_bad_writes lend_priority 1
}

require_lowmap
[ "$(nproc)" -ge 2 ] || ktap_exit_fail_msg "needs two CPUs"
efimm_unload && efimm_load route=1 || ktap_exit_fail_msg "cannot load efimm"
grep -q '^efi_test ' /proc/modules || insmod "$EFI_TEST_KO" ||
	ktap_exit_fail_msg "cannot load efi_test"
# One routed call first: at cpl3 it starts the firmware task.
cat /sys/firmware/efi/efivars/BootOrder-* >/dev/null 2>&1
if ! insmod "$HOSTILE_KO" || ! echo "arm spin" >"$HOSTILE"; then
	efimm_unload
	ktap_exit_fail_msg "cannot rewrite the firmware's GetTime"
fi
fair=$(cat "$FAIR") || ktap_exit_fail_msg "no fair server settings in $FAIR"
for p in $(agents); do
	taskset -p 2 "$p" >/dev/null || ktap_exit_fail_msg "cannot pin task $p to CPU 1"
done
echo 0 >"$FAIR"
before=$(sched_state)
ktap_print_header
ktap_set_plan 4
ktap_test_result "lending off: a real-time caller waits for a hog behind a normal call" \
	test_inversion_shows_unlent
ktap_test_result "lending on: the real-time caller's call ends while the hog spins" \
	test_lending_resolves_it
ktap_test_result "no priority stays lent after the calls" test_priorities_given_back
ktap_test_result "lend_priority rejects anything but 0 and 1" test_bad_writes_refused
echo "$fair" >"$FAIR"
echo 1 >"$EFIMM_DEBUGFS/lend_priority"
echo disarm >"$HOSTILE"
rmmod efimm_hostile
efimm_unload
ktap_finished
