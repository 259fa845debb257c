#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Firmware calls through efimm are preemptible: with the efimm thread on
# CPU 1 and a SCHED_FIFO thread waking every millisecond on that CPU, the
# firmware is switched out in the middle of its calls (counted per service
# as switched_out); the kernel's path keeps preemption off. Checked as
# events, not times (timings are make bench's): a real service preempted
# mid-call, the firmware's FPU registers intact after preemptions and
# interrupts that use the FPU, an exception taken after a preemption
# contained like any other, firmware that returns with interrupts
# disabled caught and repaired.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

RTLAT=$(dirname "$0")/rtlat
PROBE_KO=$(dirname "$0")/mmprobe/efimm_mmprobe.ko
CLOBBER=/sys/kernel/debug/efimm_fpu_clobber
INJECT=$EFIMM_DEBUGFS/inject_fault
FAULT=$EFIMM_DEBUGFS/fault
BOOT_ORDER=/sys/firmware/efi/efivars/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c
CPU=1


# on_efimm_cpu CMD: run CMD with a SCHED_FIFO waker every 100 us on the
# efimm thread's CPU, printing what the waker measured as test output, and
# keeping its worst lateness in LATENESS_NS.
# Returns CMD's status; rtlat's own failure (125) fails the whole test.
on_efimm_cpu() {
	local out rc=0
	out=$("$RTLAT" -c "$CPU" -p 100 "$1") || rc=$?
	echo "$out" | sed 's/^/# rtlat: /'
	[ "$rc" = 125 ] && ktap_exit_fail_msg "rtlat could not run"
	LATENESS_NS=$(awk '$1 == "max_lateness_ns" { print $2 }' <<<"$out")
	return "$rc"
}

test_pinned() {
	local pid
	pid=$(pgrep -x efimm) || return 1
	taskset -p $((1 << CPU)) "$pid" >/dev/null &&
		[ "$(taskset -p "$pid" | awk '{ print $NF }')" = $((1 << CPU)) ]
}

# A real service: flash writes take milliseconds under pflash, RAM writes
# about 0.5 ms under bios, hence a few rounds at most.
test_service_preempted() {
	local svc=set_variable before round
	before=$(counter "efimm.$svc.switched_out")
	for round in $(seq 1 10); do
		on_efimm_cpu "echo '$svc 20 efimm' >$EFIMM_DEBUGFS/bench" || return 1
		echo "# round $round: efimm.$svc.switched_out $(counter "efimm.$svc.switched_out")"
		[ "$(counter "efimm.$svc.switched_out")" -gt "$before" ] && return 0
	done
	return 1
}

# efimm's spin call fills xmm0, xmm7 and xmm15 with a pattern, spins for
# a while and fails unless they still hold it; meanwhile the SCHED_FIFO
# waker preempts it (user tasks reload their own FPU registers) and a
# timer of the mmprobe module zeroes those registers in hard interrupt
# context on the same CPU, inside kernel_fpu_begin(), whenever
# irq_fpu_usable() allows, as interrupt-time crypto code does.
test_fpu_survives() {
	local runs errors min
	insmod "$PROBE_KO" || return 1
	if ! echo "$CPU 3000" >"$CLOBBER" ||
	   ! on_efimm_cpu "echo 'spin 5 efimm' >$EFIMM_DEBUGFS/bench"; then
		rmmod efimm_mmprobe
		return 1
	fi
	runs=$(cat "$CLOBBER")
	rmmod efimm_mmprobe
	errors=$(bench_value errors)
	min=$(bench_value min_ns)
	echo "# 5 spin calls: $errors with their FPU registers changed;" \
		"interrupt FPU uses meanwhile: $runs; the shortest took $min ns," \
		"the waker on their CPU was $LATENESS_NS ns late at worst"
	# Preempted, as the waker saw it: a call that kept its CPU would make
	# the waker wait out most of it. Half the shortest call is a bound
	# relative to the call itself, whatever TCG's speed (lateness here is
	# a few ms; a spin call, 150 ms or more).
	[ "$errors" = 0 ] && [ "$runs" -gt 0 ] &&
		[ -n "$LATENESS_NS" ] && [ "$LATENESS_NS" -lt $((min / 2)) ]
}

# A stub spins long enough to be preempted, then takes #UD: a routed
# efivarfs read gets an error, the fault is counted like any other, and
# efimm works again once re-armed.
test_fault_after_preemption() {
	local before after switched ud ok=0
	before=$(od -An -tx1 "$BOOT_ORDER") || return 1
	switched=$(counter efimm.get_variable.switched_out)
	ud=$(fault_field exception.invalid_opcode)
	echo late_ud >"$INJECT" || return 1
	on_efimm_cpu "cat $BOOT_ORDER >/dev/null 2>&1" || ok=1
	sed 's/^/# fault: /' "$FAULT"
	[ $ok = 1 ] && [ "$(counter efimm.get_variable.switched_out)" -gt "$switched" ] &&
		[ "$(fault_field exception.invalid_opcode)" -eq $((${ud:-0} + 1)) ] &&
		[ "$(fault_field state)" = disarmed ] || ok=0
	# Re-armed whatever happened, so that the next test starts armed.
	echo rearm >"$FAULT" || return 1
	after=$(od -An -tx1 "$BOOT_ORDER") || return 1
	[ $ok = 1 ] && [ "$before" = "$after" ]
}

# The stub disables interrupts and returns EFI_DEVICE_ERROR: the call
# fails, the flags are repaired and counted, and efimm stays armed.
test_irqs_off_repaired() {
	local before
	before=$(counter efimm.irq_flags_corrupted)
	dmesg_mark
	echo irqs_off >"$INJECT" &&
		on_efimm_cpu "echo 'get_time 1 efimm' >$EFIMM_DEBUGFS/bench" || return 1
	[ "$(bench_value errors)" = 1 ] &&
		[ "$(counter efimm.irq_flags_corrupted)" -eq $((before + 1)) ] &&
		dmesg_new | grep -q 'firmware corrupted the IRQ flags in get_time' &&
		[ "$(fault_field state)" = armed ] &&
		echo "get_time 3 efimm" >"$EFIMM_DEBUGFS/bench"
}

require_lowmap
ktap_print_header
if [ "$(nproc)" -le "$CPU" ]; then
	ktap_skip_all "needs CPU $CPU"
	exit "$KSFT_SKIP"
fi
efimm_unload && efimm_load route=1 || ktap_exit_fail_msg "cannot load efimm"
echo 0 >"$EFIMM_DEBUGFS/counters"
if [ -e "$INJECT" ]; then
	ktap_set_plan 5
else
	ktap_set_plan 3
fi
ktap_test_result "the efimm thread can be pinned to CPU $CPU" test_pinned
ktap_test_result "a SCHED_FIFO thread preempts the firmware in the middle of SetVariable" \
	test_service_preempted
ktap_test_result "the firmware's FPU registers survive preemptions and interrupt FPU use; a waker on its CPU waits under half a call" \
	test_fpu_survives
if [ -e "$INJECT" ]; then
	ktap_test_result "an exception after a preemption is contained and counted" \
		test_fault_after_preemption
	ktap_test_result "firmware returning with interrupts off is caught and repaired" \
		test_irqs_off_repaired
fi
efimm_unload
ktap_finished
