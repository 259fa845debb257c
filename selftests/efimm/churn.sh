#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load/unload cycles (routed and not) and routing switches, with callers
# in flight from other processes, one of them writing a numbered sequence
# of variables through efivarfs: every cycle frees the dedicated mm, no
# efivarfs read or write fails (loaded or not, routed or not, efivarfs has
# a backend that works), and no write is lost (the runner fails the run on
# any WARN or oops). OVMF cannot reclaim
# its variable store at runtime, so the writes are paced and capped
# (EFIMM_CHURN_PACE seconds apart, at most EFIMM_CHURN_WRITES, 100 in
# -bios mode).

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

CYCLES=${EFIMM_CHURN_CYCLES:-20}
SWITCHES=${EFIMM_CHURN_SWITCHES:-20}
EFIVARS=/sys/firmware/efi/efivars
PACE=${EFIMM_CHURN_PACE:-0.1}
MAX_WRITES=${EFIMM_CHURN_WRITES:-600}
# -bios mode's variable store is in RAM, holds a few hundred writes in all
# and is not reclaimed at runtime: after make stress's 100,000 fuzz cases
# there is room for about 95 more, and the efivarfs and lowmap tests after
# this one need some of them.
[ "${EFIMM_FW:-}" = bios ] && [ "$MAX_WRITES" -gt 40 ] && MAX_WRITES=40
GUID=5d3e9f2c-7a11-424b-8e41-6566696d6d01
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Reads BootOrder through efivarfs, logging each read and each failure, and
# calls GetTime through efimm's bench (which fails while efimm is unloaded).
callers() {
	while :; do
		if cat "$EFIVARS"/BootOrder-* >/dev/null 2>>"$WORK/read_errors"; then
			echo >>"$WORK/reads"
		else
			echo "failed read" >>"$WORK/read_errors"
		fi
		echo "get_time 3 efimm" 2>/dev/null >"$EFIMM_DEBUGFS/bench"
	done
}

# Writes EfimmChurn<n> = "churn-<n>" for n = 1, 2, ... until $WORK/stop
# exists; logs each n that succeeded and each failure, and gives up after
# 10 failures.
writer() {
	local n=1 failed=0
	while [ ! -e "$WORK/stop" ]; do
		if [ $n -gt "$MAX_WRITES" ] || [ $failed -ge 10 ]; then
			sleep 0.5
			continue
		fi
		sleep "$PACE"
		if printf '\x07\x00\x00\x00churn-%d' $n \
			>"$EFIVARS/EfimmChurn$n-$GUID" 2>>"$WORK/errors"; then
			echo $n >>"$WORK/written"
			n=$((n + 1))
		else
			echo "failed $n" >>"$WORK/errors"
			failed=$((failed + 1))
		fi
	done
}

start_load() {
	callers & PIDS=$!
	callers & PIDS="$PIDS $!"
	writer & WRITER=$!
}

stop_load() {
	touch "$WORK/stop"
	wait $WRITER
	kill $PIDS
	wait $PIDS 2>/dev/null
}

test_cycles() {
	local i released
	dmesg_mark
	for i in $(seq 1 "$CYCLES"); do
		efimm_load route=$((i % 2)) || return 1
		sleep 0.2
		efimm_unload || return 1
	done
	released=$(dmesg_new | grep -c 'efimm: dedicated mm released (mm_users 0)')
	echo "# $CYCLES cycles, $released mm releases"
	[ "$released" -eq "$CYCLES" ] && ! efimm_loaded
}

test_switches() {
	local i
	efimm_load || return 1
	for i in $(seq 1 "$SWITCHES"); do
		echo 1 >"$EFIMM_DEBUGFS/route" && echo 0 >"$EFIMM_DEBUGFS/route" || return 1
	done
	efimm_unload
}

# Every write succeeded, and is there with its content.
test_no_write_failed_or_lost() {
	local n lost=0 written failed
	written=$(wc -l <"$WORK/written")
	failed=$(grep -c '^failed' "$WORK/errors")
	echo "# $written variables written, $failed writes failed"
	grep -v '^failed' "$WORK/errors" | sort | uniq -c | head -5 | sed 's/^/# write error: /'
	for n in $(cat "$WORK/written"); do
		# efivarfs files cannot seek: skip the attributes through a pipe.
		if [ "$(cat "$EFIVARS/EfimmChurn$n-$GUID" 2>/dev/null | tail -c +5)" != "churn-$n" ]; then
			echo "# EfimmChurn$n lost"
			lost=$((lost + 1))
		fi
	done
	[ "$written" -gt 0 ] && [ "$failed" -eq 0 ] && [ $lost -eq 0 ]
}

test_no_read_failed() {
	local reads failed
	reads=$(wc -l <"$WORK/reads")
	failed=$(grep -c '^failed read' "$WORK/read_errors")
	echo "# $reads efivarfs reads by the callers, $failed failed"
	grep -v '^failed read' "$WORK/read_errors" | sort | uniq -c | head -5 | sed 's/^/# read error: /'
	[ "$reads" -gt 0 ] && [ "$failed" -eq 0 ]
}

cleanup_vars() {
	local f
	for f in "$EFIVARS"/EfimmChurn*-"$GUID"; do
		[ -e "$f" ] || continue
		chattr -i "$f" 2>/dev/null
		rm -f "$f"
	done
}

test_efivarfs_still_works() {
	cat "$EFIVARS"/BootOrder-* >/dev/null
}

require_lowmap
efimm_unload
cleanup_vars
touch "$WORK/written" "$WORK/errors" "$WORK/reads" "$WORK/read_errors"
ktap_print_header
ktap_set_plan 5
start_load
ktap_test_result "$CYCLES load/unload cycles with callers in flight, each frees its mm" test_cycles
ktap_test_result "$SWITCHES routing on/off switches with callers in flight" test_switches
stop_load
ktap_test_result "no variable write failed or was lost" test_no_write_failed_or_lost
ktap_test_result "no efivarfs read failed" test_no_read_failed
ktap_test_result "efivarfs works afterwards" test_efivarfs_still_works
cleanup_vars
ktap_finished
