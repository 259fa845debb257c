#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Under kernel lockdown (integrity), efimm refuses what efi_test refuses:
# userspace driving runtime services. route=1 fails to load, and the
# debugfs files that make calls or switch routing refuse writes; the
# read-only files stay readable. Lockdown cannot be lifted: this test runs
# last in its boot.
#
# In a cpl3 boot, efimm is loaded and routed before the lockdown, and the
# firmware task it made then is killed after: the next GetTime (from a
# test module's read-only debugfs file, through the routed efi.get_time)
# starts a task under lockdown, which would refuse it ioperm()
# (LOCKDOWN_IOPORT); it has no port, and its RTC reads work: efimm traps
# and emulates them.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/../efimm/lib.sh"

LOCKDOWN=/sys/kernel/security/lockdown
HOSTILE_KO=$(dirname "$0")/../efimm/mmprobe/efimm_hostile.ko
GET_TIME=/sys/kernel/debug/efimm_kernel_get_time

cpl3_boot() {
	[[ " $(efimm_boot_mode) " == *" mode=cpl3 "* ]]
}

test_signed() {
	# Lockdown refuses unsigned modules; `make module` signs efimm.ko
	# with the kernel build's key.
	[ "$(tail -c 28 "$EFIMM_KO")" = "~Module signature appended~" ]
}

test_lock_down() {
	efi_test_load && efimm_unload || return 1
	if cpl3_boot; then
		efimm_load route=1 && insmod "$HOSTILE_KO" || return 1
		# A firmware task, made before the lockdown.
		grep -q '^status 0x0 ' "$GET_TIME" && [ -n "$(firmware_tasks)" ] || return 1
	fi
	echo integrity >$LOCKDOWN && grep -q '\[integrity\]' $LOCKDOWN
}

test_cpl3_rtc_locked_down() {
	local old i line fw now
	old=$(firmware_tasks)
	kill -KILL $old || return 1
	for i in $(seq 50); do
		[ -z "$(firmware_tasks)" ] && break
		sleep 0.1
	done
	line=$(cat "$GET_TIME") || return 1
	now=$(date -u +%s)
	echo "# GetTime under lockdown, in a new firmware task ($old killed," \
		"now $(firmware_tasks)): $line"
	[[ "$line" == "status 0x0 "* ]] && [ -n "$(firmware_tasks)" ] &&
		[ "$(firmware_tasks)" != "$old" ] || return 1
	fw=$(date -u -d "${line#status 0x0 }" +%s) &&
		[ $((fw - now)) -le 2 ] && [ $((now - fw)) -le 2 ] || return 1
	rmmod efimm_hostile && efimm_unload
}

test_efi_test_refuses() {
	# The kernel's own rule, which efimm follows.
	! ( : </dev/efi_test ) 2>/dev/null
}

test_route_param_refused() {
	local err
	dmesg_mark
	# With the boot's mode: a sealed boot refuses cpl0 first.
	err=$(insmod "$EFIMM_KO" $(efimm_boot_mode) route=1 2>&1) && return 1
	echo "# insmod route=1: $err"
	dmesg_new | grep -q 'efimm: route=1 refused: the kernel is locked down' &&
		! efimm_loaded
}

test_writes_refused() {
	local f w
	efimm_load || return 1
	for w in route:1 lend_priority:0 bench:"get_time 1 efimm" reset:shutdown inject_fault:nx fault:rearm \
		counters:0 watch_kernel_path:1; do
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
ktap_set_plan $((5 + $(cpl3_boot && echo 1 || echo 0)))
ktap_test_result "efimm.ko is signed" test_signed
ktap_test_result "the kernel locks down (integrity)" test_lock_down
if cpl3_boot; then
	ktap_test_result "cpl3: a firmware task started under lockdown reads the RTC" \
		test_cpl3_rtc_locked_down
fi
ktap_test_result "efi_test refuses to open" test_efi_test_refuses
ktap_test_result "efimm refuses route=1" test_route_param_refused
ktap_test_result "efimm loads, refuses calls and routing through debugfs" test_writes_refused
ktap_finished
