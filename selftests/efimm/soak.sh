#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Preemptible firmware calls under load: ./soak makes CALLS calls through
# efimm (routed efi_test), numbered variable writes read back and the
# monotonic count strictly increasing among them, while a SCHED_FIFO
# thread wakes every 200 us on every CPU and a CPU hog spins on every
# CPU, so that the firmware is preempted over and over, and efimm's spin
# call (which checks its FPU registers across the preemptions) and the
# kernel's own path run alongside: no two calls are ever inside the
# firmware at once, though efimm holds the EFI runtime lock while its
# firmware is preempted. The kernel log stays clean (the judge checks it
# for every test). make stress runs 100,000 calls.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

CALLS=${EFIMM_SOAK_CALLS:-2000}
WRITES=${EFIMM_SOAK_WRITES:-20}
MONOTONIC=${EFIMM_SOAK_MONOTONIC:-20}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# -bios mode's variable store is in RAM and holds a few hundred writes per
# boot, shared with the other tests; GetNextHighMonotonicCount writes it
# too. The store, not efimm, runs out (EFI_OUT_OF_RESOURCES) beyond this.
[ "${EFIMM_FW:-}" = bios ] && [ "$WRITES" -gt 40 ] && WRITES=40
[ "${EFIMM_FW:-}" = bios ] && [ "$MONOTONIC" -gt 40 ] && MONOTONIC=40

efimm_calls() {
	awk '$1 ~ /^efimm\.[a-z_]+\.calls$/ { n += $2 } END { print n + 0 }' \
		"$EFIMM_DEBUGFS/counters"
}

efimm_switched_out() {
	awk '$1 ~ /^efimm\.[a-z_]+\.switched_out$/ { n += $2 } END { print n + 0 }' \
		"$EFIMM_DEBUGFS/counters"
}

# Beside the soak: efimm's spin call, failing if its FPU registers
# changed, and the kernel's path, until the file STOP exists and at least
# one round is done. How often each spin call was switched out goes to
# SPINS: a call that long, beside a hog on its CPU, always is; the soak's
# own calls are too short to be sure of it.
spin_and_kernel_path() {
	local stop=$1 spins=$2
	while [ ! -e "$stop" ] || [ ! -s "$spins" ]; do
		echo "spin 1 efimm" >"$EFIMM_DEBUGFS/bench" || return 1
		[ "$(bench_value errors)" = 0 ] ||
			{ echo "# spin call: FPU registers changed"; return 1; }
		bench_value switched_out >>"$spins"
		echo "get_time 20 kernel" >"$EFIMM_DEBUGFS/bench" || return 1
	done
}

# The kernel's own count of the times a task was preempted.
preempted() {
	awk '$1 == "nonvoluntary_ctxt_switches:" { print $2 }' "/proc/$1/status"
}

test_soak() {
	local hogs=() cpu rc=0 out side thread before spun
	local stop=$WORK/stop spins=$WORK/spins
	echo 1 >"$EFIMM_DEBUGFS/route" && echo 1 >"$EFIMM_DEBUGFS/watch_kernel_path" &&
		echo 0 >"$EFIMM_DEBUGFS/counters" || return 1
	thread=$(pgrep -x efimm) && before=$(preempted "$thread") || return 1
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$cpu" sh -c 'while :; do :; done' & hogs+=($!)
	done
	spin_and_kernel_path "$stop" "$spins" & side=$!
	out=$(./rtlat -p 200 "./soak $CALLS $WRITES $MONOTONIC" 2>&1) || rc=1
	touch "$stop"
	wait "$side" || rc=1
	kill "${hogs[@]}"
	wait "${hogs[@]}" 2>/dev/null
	spun=$(awk '{ n++; s += $1 } END { printf "%d spin calls switched out %d times", n, s }' "$spins")
	echo 0 >"$EFIMM_DEBUGFS/watch_kernel_path"
	echo 0 >"$EFIMM_DEBUGFS/route"
	echo "$out" | sed 's/^/# /'
	echo "# $spun beside them"
	echo "# efimm calls $(efimm_calls), firmware switched out $(efimm_switched_out) times," \
		"the efimm thread preempted $(($(preempted "$thread") - before)) times (the kernel's count)," \
		"kernel path calls $(counter kernel.get_time.calls)," \
		"firmware_overlaps $(counter firmware_overlaps)"
	# Preemptible, seen both ways: efimm's hook in the spin calls, and the
	# scheduler's count for the thread.
	[ $rc -eq 0 ] && [ "$(efimm_calls)" -ge "$CALLS" ] &&
		[ "$(awk '{ s += $1 } END { print s + 0 }' "$spins")" -gt 0 ] &&
		[ "$(($(preempted "$thread") - before))" -gt 0 ] &&
		[ "$(counter kernel.get_time.calls)" -gt 0 ] &&
		[ "$(counter firmware_overlaps)" -eq 0 ]
}

require_lowmap
ktap_print_header
efimm_unload && efimm_load && efi_test_load || ktap_exit_fail_msg "cannot load efimm and efi_test"
ktap_set_plan 1
ktap_test_result "$CALLS calls through efimm under RT threads and CPU hogs: every answer right" test_soak
efimm_unload
ktap_finished
