#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile firmware, made from outside efimm: a test module (efimm_hostile)
# rewrites the real firmware's GetTime entry to store the address of one of
# its own functions into the GetVariable slot of the firmware's runtime
# services table. One GetTime through efimm at CPL3 runs it: a store the
# cpl3 mm allows (the table is runtime data). Then every path the kernel
# has to GetVariable is driven, efimm's routed one and the kernel's own,
# (efivarfs, efi_test), and the module counts how often the kernel called
# the function the firmware chose: in kernel mode, that is the firmware
# steering CPL0.
#
# Sealed (the default), never: the kernel's path refuses every call. With
# efimm.seal=0 on the command line (the boots that compare the two paths),
# the kernel's own path calls it: the hazard the seal closes, shown. efimm's
# own path never does: it reads the entry points once, at load.
#
# Then the firmware's port I/O: the real firmware's own (its RTC, its PM
# timer delays) is trapped and emulated, none refused, and a PM timer the
# firmware reads advances; GetTime rewritten
# to set the NMI mask bit, to reach CMOS beyond the RTC or the PCI
# configuration address ends as a contained #GP, and the next call works;
# made to jump to 0, a contained page fault.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

HOSTILE_KO=$(dirname "$0")/mmprobe/efimm_hostile.ko
HOSTILE=/sys/kernel/debug/efimm_hostile
BENCH=$EFIMM_DEBUGFS/bench
EFIVARS=/sys/firmware/efi/efivars

hostile_field() {
	awk -v k="$1" '$1 == k { print $2 }' "$HOSTILE"
}

sealed_boot() {
	! grep -qw 'efimm.seal=0' /proc/cmdline
}

read_boot_order() {
	cat "$EFIVARS"/BootOrder-* >/dev/null 2>&1
}

test_payload_runs_at_cpl3() {
	efimm_load route=0 && [ "$(head -n 1 "$EFIMM_DEBUGFS/mode")" = cpl3 ] || return 1
	insmod "$HOSTILE_KO" && echo arm >"$HOSTILE" || return 1
	echo "get_time 1 efimm" >"$EFIMM_DEBUGFS/bench" || return 1
	echo "# after one GetTime at CPL3: slot_rewritten $(hostile_field slot_rewritten)"
	[ "$(hostile_field slot_rewritten)" = 1 ]
}

# Routed, efivarfs reads go through efimm, which kept the entry point it
# read at load: the rewritten slot is never called, and the read works.
test_efimm_path_ignores_the_slot() {
	local before=$(hostile_field target_calls)
	echo 1 >"$EFIMM_DEBUGFS/route" && read_boot_order || return 1
	echo 0 >"$EFIMM_DEBUGFS/route" || return 1
	[ "$(hostile_field target_calls)" = "$before" ]
}

# Unrouted, efivarfs reads and efi_test's ioctls (fuzz's cases, every
# service but ResetSystem) take the kernel's own path: sealed, it refuses
# and the target never runs; unsealed, the kernel calls the target.
test_kernel_path() {
	local before=$(hostile_field target_calls) reads fuzzed
	read_boot_order
	reads=$(($(hostile_field target_calls) - before))
	efi_test_load && "$(dirname "$0")/fuzz" 7 300 "${TMPDIR:-/tmp}/hostile-fuzz.txt" || return 1
	fuzzed=$(($(hostile_field target_calls) - before - reads))
	echo "# kernel path: the firmware's chosen function ran in kernel mode $reads times" \
		"for one efivarfs read, $fuzzed times for 300 efi_test cases" \
		"($(sealed_boot && echo sealed || echo 'seal=0'))"
	if sealed_boot; then
		[ "$reads" = 0 ] && [ "$fuzzed" = 0 ]
	else
		[ "$reads" -gt 0 ] && [ "$fuzzed" -gt 0 ]
	fi
}

test_disarm_restores() {
	echo disarm >"$HOSTILE" && [ "$(hostile_field slot_rewritten)" = 0 ] &&
		rmmod efimm_hostile && echo "get_time 1 efimm" >"$EFIMM_DEBUGFS/bench" &&
		efimm_unload
}

# 20 GetTime calls: OVMF's RtcRead() alone makes 3 accesses a register.
test_firmware_ports_emulated() {
	local emulated refused n
	efimm_load route=0 && insmod "$HOSTILE_KO" || return 1
	emulated=$(mode_field port_io_emulated) refused=$(mode_field port_io_refused)
	echo "get_time 20 efimm" >"$BENCH" && [ "$(bench_value errors)" = 0 ] || return 1
	n=$(($(mode_field port_io_emulated) - emulated))
	echo "# 20 GetTime calls at CPL3: $n port accesses emulated," \
		"$(($(mode_field port_io_refused) - refused)) refused"
	[ "$n" -ge 60 ] && [ "$(mode_field port_io_refused)" = "$refused" ]
}

# GetTime rewritten to read the PM timer twice: both reads emulated, and
# the second later than the first (OVMF's delays read it only while the
# RTC updates, rarely during a test).
test_pm_timer_emulated() {
	local emulated refused
	emulated=$(mode_field port_io_emulated) refused=$(mode_field port_io_refused)
	echo "arm pmtimer" >"$HOSTILE" || return 1
	echo "get_time 1 efimm" >"$BENCH"
	echo disarm >"$HOSTILE" || return 1
	echo "# two PM timer reads: errors $(bench_value errors)," \
		"$(($(mode_field port_io_emulated) - emulated)) emulated"
	[ "$(bench_value errors)" = 0 ] &&
		[ "$(mode_field port_io_emulated)" = $((emulated + 2)) ] &&
		[ "$(mode_field port_io_refused)" = "$refused" ]
}

# port_refused PAYLOAD REASON: GetTime rewritten with PAYLOAD ends as a
# contained #GP, efimm logs REASON, and once re-armed the real one works.
port_refused() {
	local refused
	refused=$(mode_field port_io_refused)
	dmesg_mark
	echo "arm $1" >"$HOSTILE" || return 1
	echo "get_time 1 efimm" >"$BENCH"
	echo disarm >"$HOSTILE" || return 1
	dmesg_new | grep efimm | sed 's/^/# dmesg: /'
	[ "$(bench_value errors)" = 1 ] && [ "$(bench_value last_error)" = EFI_ABORTED ] &&
		[ "$(fault_field last_service)" = get_time ] &&
		[ "$(fault_field last_exception)" = general_protection ] &&
		[ "$(mode_field port_io_refused)" = $((refused + 1)) ] &&
		dmesg_new | grep -qF "efimm: cpl3: refused the firmware's port access: $2" || return 1
	if dmesg_new | grep -Eq 'Oops|WARNING:|BUG:|Call Trace'; then
		echo "# the kernel log is not clean"
		return 1
	fi
	echo rearm >"$EFIMM_DEBUGFS/fault" && echo "get_time 1 efimm" >"$BENCH" &&
		[ "$(bench_value errors)" = 0 ]
}

# The real GetTime made to jump to 0: at CPL0 no exception of the
# firmware's to contain (the pflash-oops boot oopses, as the kernel's path
# would); in user mode, the firmware task's page fault, contained.
test_stray_jump_contained() {
	local faults
	faults=$(fault_field faults)
	echo "arm stray" >"$HOSTILE" || return 1
	echo "get_time 1 efimm" >"$BENCH"
	echo disarm >"$HOSTILE" || return 1
	echo "# GetTime jumping to 0 at CPL3: $(fault_field last_exception)," \
		"ip $(fault_field last_ip), address $(fault_field last_address)"
	[ "$(bench_value errors)" = 1 ] && [ "$(fault_field faults)" = $((faults + 1)) ] &&
		[ "$(fault_field last_exception)" = page_fault ] &&
		[ "$(fault_field last_ip)" = 0x0 ] && [ "$(fault_field last_address)" = 0x0 ] &&
		echo rearm >"$EFIMM_DEBUGFS/fault" && echo "get_time 1 efimm" >"$BENCH" &&
		[ "$(bench_value errors)" = 0 ]
}

require_lowmap
ktap_print_header
ktap_set_plan 10
ktap_test_result "the rewritten GetTime at CPL3 stores into the runtime services table" \
	test_payload_runs_at_cpl3
ktap_test_result "efimm's path never calls what the firmware stored" test_efimm_path_ignores_the_slot
if sealed_boot; then
	ktap_test_result "sealed: the kernel's path never calls what the firmware stored" test_kernel_path
else
	ktap_test_result "seal=0: the kernel's path calls what the firmware stored (the hazard)" \
		test_kernel_path
fi
ktap_test_result "disarmed, the firmware is whole again" test_disarm_restores
ktap_test_result "the firmware's own port I/O is emulated, none refused" test_firmware_ports_emulated
ktap_test_result "PM timer reads are emulated, from a clock that advances" test_pm_timer_emulated
ktap_test_result "GetTime setting the NMI mask bit is a contained #GP" \
	port_refused nmi "RTC index 0x8f sets the NMI mask bit"
ktap_test_result "GetTime reading CMOS beyond the RTC is a contained #GP" \
	port_refused cmos "CMOS register 0x40 is not the RTC's"
ktap_test_result "GetTime writing the PCI configuration address is a contained #GP" \
	port_refused pci "32-bit out at port 0xcf8 (no such port for the firmware)"
ktap_test_result "GetTime jumping to 0 is a contained page fault at CPL3" test_stray_jump_contained
grep -q '^efimm_hostile ' /proc/modules && { echo disarm >"$HOSTILE"; rmmod efimm_hostile; }
efimm_unload
ktap_finished
