#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# With routing on, the kernel's own EFI users go through efimm: the
# upstream efivarfs kselftest passes and efimm's counters show its calls;
# the non-blocking calls efi-pstore makes at panic are handed to the
# kernel's path and counted. Routing off, and unloading while routed, give the kernel its path back.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

EFIVARS=/sys/firmware/efi/efivars
HOSTILE_KO=$(dirname "$0")/mmprobe/efimm_hostile.ko
NB=/sys/kernel/debug/efimm_kernel_nb
EFI_NOT_FOUND=0x800000000000000e

route() {
	echo "$1" >"$EFIMM_DEBUGFS/route"
}

reset_counters() {
	echo 0 >"$EFIMM_DEBUGFS/counters"
}

# Routed, no call of the kernel's EFI users enters the firmware by the
# kernel's path: probes on the kernel's own firmware bracket
# (watch_kernel_path) count every such call, whoever makes it.
test_efivarfs_selftest_through_efimm() {
	local rc before bypassed
	route 1 && reset_counters && echo 1 >"$EFIMM_DEBUGFS/watch_kernel_path" || return 1
	before=$(counter kernel.watched_calls)
	# Bounded: the upstream test waits for its background jobs on FIFOs,
	# and a lost job hangs it instead of failing it (bash 5.2 lost one
	# twice in bios-cpl3; make selftests installs the test with that fixed,
	# scripts/efivarfs-copy.sh). If it hangs all the same, what efimm and
	# the kernel said is printed, and shortly before the limit where every
	# task waits. Killed, the watcher takes its sleep with it: nothing may
	# outlive the test.
	(trap 'kill $sleeper 2>/dev/null; exit 0' TERM
	 sleep 290 </dev/null >/dev/null 2>&1 &
	 sleeper=$!
	 wait $sleeper || exit 0
	 echo "# efivarfs.sh still runs after 290 s; the tasks and where they wait:"
	 ps -eo pid,ppid,stat,wchan:32,args | sed 's/^/#   /') &
	watcher=$!
	(cd "$(dirname "$0")/../efivarfs" && timeout 300 ./efivarfs.sh) 2>&1 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	if [ "$rc" = 124 ]; then
		echo "# efivarfs.sh ran past 300 s; efimm's counters and the kernel's last words:"
		grep -E 'calls|errors' "$EFIMM_DEBUGFS/counters" | sed 's/^/#   /'
		dmesg | tail -n 20 | sed 's/^/#   /'
	fi
	bypassed=$(($(counter kernel.watched_calls) - before))
	echo 0 >"$EFIMM_DEBUGFS/watch_kernel_path"
	echo "# efimm calls: get_variable $(counter efimm.get_variable.calls)," \
		"set_variable $(counter efimm.set_variable.calls)," \
		"get_next_variable $(counter efimm.get_next_variable.calls);" \
		"firmware calls by the kernel's path meanwhile: $bypassed"
	[ $rc -eq 0 ] &&
		[ "$(counter efimm.get_variable.calls)" -gt 0 ] &&
		[ "$(counter efimm.set_variable.calls)" -gt 0 ] &&
		[ "$bypassed" -eq 0 ]
}

# Routed, the kernel's non-blocking variable services (efi-pstore's at
# panic, called where nothing may sleep) cannot wait for efimm: each call
# takes the kernel's path and is counted as handed off. efimm_hostile
# makes exactly one of each; the probes on the kernel's bracket see both
# enter the firmware, and their statuses are the firmware's: the deleted
# variable never existed, and the store has room.
test_nonblocking_handed_off() {
	local set_before query_before set query calls
	route 1 && insmod "$HOSTILE_KO" || return 1
	set_before=$(counter efimm.set_variable.atomic_handoffs)
	query_before=$(counter efimm.query_variable_info.atomic_handoffs)
	calls=$(counter kernel.watched_calls)
	echo 1 >"$EFIMM_DEBUGFS/watch_kernel_path" && echo 1 >"$NB" &&
		set=$(awk '$1 == "set_variable_nonblocking" { print $2 }' "$NB") &&
		query=$(awk '$1 == "query_variable_info_nonblocking" { print $2 }' "$NB")
	calls=$(($(counter kernel.watched_calls) - calls))
	echo 0 >"$EFIMM_DEBUGFS/watch_kernel_path"
	rmmod efimm_hostile || return 1
	echo "# non-blocking SetVariable $set, QueryVariableInfo $query; handed off:" \
		"$(($(counter efimm.set_variable.atomic_handoffs) - set_before))," \
		"$(($(counter efimm.query_variable_info.atomic_handoffs) - query_before));" \
		"firmware calls by the kernel's path: $calls"
	[ "$set" = "$EFI_NOT_FOUND" ] && [ "$query" = 0x0 ] && [ "$calls" = 2 ] &&
		[ "$(counter efimm.set_variable.atomic_handoffs)" = $((set_before + 1)) ] &&
		[ "$(counter efimm.query_variable_info.atomic_handoffs)" = $((query_before + 1)) ]
}

# The control for the test above: unrouted, the same probes count the
# reads efivarfs makes by the kernel's path.
test_route_off_restores_kernel_path() {
	local before seen
	route 0 && reset_counters && echo 1 >"$EFIMM_DEBUGFS/watch_kernel_path" || return 1
	before=$(counter kernel.watched_calls)
	cat "$EFIVARS"/BootOrder-* >/dev/null || return 1
	seen=$(($(counter kernel.watched_calls) - before))
	echo 0 >"$EFIMM_DEBUGFS/watch_kernel_path"
	echo "# unrouted: one read, $seen firmware calls by the kernel's path"
	[ "$(cat "$EFIMM_DEBUGFS/route")" = 0 ] && [ "$seen" -gt 0 ] &&
		[ "$(counter efimm.get_variable.calls)" -eq 0 ]
}

test_bad_route_writes_are_refused() {
	switch_refuses_bad_writes route 0
}

test_unload_while_routed_restores() {
	route 1 || return 1
	cat "$EFIVARS"/BootOrder-* >/dev/null || return 1
	efimm_unload || return 1
	# efivarfs must still read and write through the kernel's own path.
	local f=$EFIVARS/EfimmRouteTest-2c9f3e5d-117a-4b42-8e41-6566696d6d02
	printf '\x07\x00\x00\x00ok' >"$f" && [ "$(cat "$f" | tail -c 2)" = ok ] &&
		chattr -i "$f" && rm "$f"
}

require_lowmap
efimm_load || ktap_exit_fail_msg "cannot load efimm"
ktap_print_header
ktap_set_plan 5
ktap_test_result "route=1: the upstream efivarfs kselftest passes through efimm" \
	test_efivarfs_selftest_through_efimm
ktap_test_result "route=1: the kernel's non-blocking calls take its path, counted as handed off" \
	test_nonblocking_handed_off
ktap_test_result "route=0: efivarfs is served by the kernel's path again" \
	test_route_off_restores_kernel_path
ktap_test_result "route rejects anything but 0 and 1" test_bad_route_writes_are_refused
ktap_test_result "unloading while routed gives efivarfs back to the kernel" \
	test_unload_while_routed_restores
ktap_finished
