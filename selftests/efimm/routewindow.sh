#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# No window while routing switches. An unprivileged user runs statfs and
# reads on efivarfs while root switches routing on and off
# (EFIMM_ROUTE_SWITCHES times): no statfs may fail and no oops may happen
# (efivarfs' statfs once dereferenced a NULL backend then). Then
# `insmod route=1` / `rmmod` cycles (EFIMM_ROUTE_CYCLES) with rmmod killed
# at a random moment while 4 readers run: the kernel never loses its
# efivars backend (a killed re-registration once left efivarfs answering
# ENODEV until reboot). efivarfs reads and writes at the end.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

SWITCHES=${EFIMM_ROUTE_SWITCHES:-150}
CYCLES=${EFIMM_ROUTE_CYCLES:-20}
EFIVARS=/sys/firmware/efi/efivars
BOOT_ORDER=$EFIVARS/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c
WORK=$(mktemp -d)
chmod 777 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# As nobody: statfs and a read of BootOrder (efivarfs files are readable
# by all) until $WORK/stop exists; logs every failed statfs.
hammer() {
	as_nobody bash -c '
		while [ ! -e "$1/stop" ]; do
			stat -f "$2" >/dev/null 2>>"$1/statfs-errors" ||
				echo failed >>"$1/statfs-failures"
			cat "$3" >/dev/null 2>&1
		done' _ "$WORK" "$EFIVARS" "$BOOT_ORDER"
}

# As root: reads of BootOrder until $WORK/stop exists.
reader() {
	while [ ! -e "$WORK/stop" ]; do
		cat "$BOOT_ORDER" >/dev/null 2>&1
	done
}

stop_all() {
	touch "$WORK/stop"
	wait
	rm -f "$WORK/stop"
}

# efivarfs works: BootOrder reads, and a variable can be written, read
# back and deleted.
efivarfs_works() {
	local f=$EFIVARS/EfimmWindow-2c9f3e5d-117a-4b42-8e41-6566696d6d03
	cat "$BOOT_ORDER" >/dev/null &&
		printf '\x07\x00\x00\x00ok' >"$f" && [ "$(tail -c 2 "$f")" = ok ] &&
		chattr -i "$f" && rm "$f"
}

no_oops_since_mark() {
	! dmesg_new | grep -E 'BUG:|Oops|WARNING:|general protection' | sed 's/^/# dmesg: /' | grep -q .
}

test_switches_under_statfs() {
	local i pids
	efimm_load || return 1
	dmesg_mark
	hammer & hammer &
	for i in $(seq "$SWITCHES"); do
		echo $((i % 2)) >"$EFIMM_DEBUGFS/route" || { stop_all; return 1; }
	done
	echo 0 >"$EFIMM_DEBUGFS/route"
	stop_all
	echo "# $SWITCHES switches; statfs failures: $(cat "$WORK/statfs-failures" 2>/dev/null | wc -l)"
	sed 's/^/# statfs: /' "$WORK/statfs-errors" 2>/dev/null | sort | uniq -c | head -5
	[ ! -s "$WORK/statfs-failures" ] && no_oops_since_mark && efivarfs_works
}

# in_delete_module PID: returns once PID is seen sleeping in
# delete_module(2) (x86-64 syscall 176), or is gone. Builtins only.
in_delete_module() {
	local nr rest looks=0
	while [ $looks -lt 100000 ]; do
		looks=$((looks + 1))
		read -r nr rest 2>/dev/null </proc/"$1"/syscall || return 0
		[ "$nr" = 176 ] && return 0
	done
}

test_killed_unloads() {
	local i rm_pid
	efimm_unload || return 1
	dmesg_mark
	reader & reader & reader & reader &
	for i in $(seq "$CYCLES"); do
		insmod "$EFIMM_KO" route=1 || { stop_all; return 1; }
		rmmod efimm 2>/dev/null &
		rm_pid=$!
		if [ $((i % 2)) = 0 ]; then
			# Somewhere between at once and well into the unload.
			sleep "$(printf '0.%03d' $((RANDOM % 400)))"
		else
			# As soon as it sleeps inside delete_module(2): where
			# efimm gives efivarfs back, behind the readers' lock.
			in_delete_module $rm_pid
		fi
		kill -9 $rm_pid 2>/dev/null
		wait $rm_pid 2>/dev/null
		# A kill that landed before the unload began leaves efimm loaded.
		while efimm_loaded; do
			rmmod efimm 2>/dev/null || sleep 0.1
		done
	done
	stop_all
	echo "# $CYCLES cycles of insmod route=1 / rmmod killed after 0-399 ms or inside delete_module"
	no_oops_since_mark && efivarfs_works
}

require_lowmap
ktap_print_header
ktap_set_plan 2
ktap_test_result "$SWITCHES route switches under unprivileged statfs and reads" \
	test_switches_under_statfs
ktap_test_result "$CYCLES routed loads with rmmod killed at random, 4 readers: efivarfs intact" \
	test_killed_unloads
efimm_unload
ktap_finished
