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

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

HOSTILE_KO=$(dirname "$0")/mmprobe/efimm_hostile.ko
HOSTILE=/sys/kernel/debug/efimm_hostile
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

require_lowmap
ktap_print_header
ktap_set_plan 4
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
grep -q '^efimm_hostile ' /proc/modules && { echo disarm >"$HOSTILE"; rmmod efimm_hostile; }
efimm_unload
ktap_finished
