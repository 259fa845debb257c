#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Under kernel lockdown (integrity), efimm refuses what efi_test refuses:
# userspace driving runtime services. route=1 fails to load, and the
# debugfs files that make calls or switch routing refuse writes; the
# read-only files stay readable. Lockdown cannot be lifted: this test runs
# last in its boot.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/../efimm/lib.sh"

LOCKDOWN=/sys/kernel/security/lockdown

test_signed() {
	# Lockdown refuses unsigned modules; `make module` signs efimm.ko
	# with the kernel build's key.
	[ "$(tail -c 28 "$EFIMM_KO")" = "~Module signature appended~" ]
}

test_lock_down() {
	efi_test_load && efimm_unload || return 1
	echo integrity >$LOCKDOWN && grep -q '\[integrity\]' $LOCKDOWN
}

test_efi_test_refuses() {
	# The kernel's own rule, which efimm follows.
	! ( : </dev/efi_test ) 2>/dev/null
}

test_route_param_refused() {
	local err
	dmesg_mark
	err=$(insmod "$EFIMM_KO" route=1 2>&1) && return 1
	echo "# insmod route=1: $err"
	dmesg_new | grep -q 'efimm: route=1 refused: the kernel is locked down' &&
		! efimm_loaded
}

test_writes_refused() {
	local f w
	efimm_load || return 1
	for w in route:1 bench:"get_time 1 efimm" reset:shutdown inject_fault:nx fault:rearm counters:0 watch_kernel_path:1; do
		f=$EFIMM_DEBUGFS/${w%%:*}
		[ -e "$f" ] || continue
		if echo "${w#*:}" 2>/dev/null >"$f"; then
			echo "# write to ${w%%:*} accepted"
			return 1
		fi
	done
	# debugfs refuses every file but the read-only ones.
	[ -n "$(cat "$EFIMM_DEBUGFS/regions")" ] && efimm_unload
}

require_lowmap
ktap_print_header
if [ ! -e $LOCKDOWN ]; then
	mountpoint -q /sys/kernel/security || mount -t securityfs none /sys/kernel/security
fi
if [ ! -w $LOCKDOWN ]; then
	ktap_skip_all "no lockdown LSM in this kernel"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 5
ktap_test_result "efimm.ko is signed" test_signed
ktap_test_result "the kernel locks down (integrity)" test_lock_down
ktap_test_result "efi_test refuses to open" test_efi_test_refuses
ktap_test_result "efimm refuses route=1" test_route_param_refused
ktap_test_result "efimm loads, refuses calls and routing through debugfs" test_writes_refused
ktap_finished
