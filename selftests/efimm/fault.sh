#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The firmware takes a CPU exception inside the dedicated mm (made to,
# through the inject_fault file of kernels built with
# CONFIG_FAULT_INJECTION_DEBUG_FS): the kernel survives, the caller gets
# an EFI error, the exception is counted by kind and service and described
# in the `fault` file, efimm refuses calls until re-armed, and works again
# afterwards. The kernel's own path to the firmware is closed as well
# until then, and the kernel tainted (I, TAINT_FIRMWARE_WORKAROUND): the
# firmware may have stopped halfway through an update of its own state.
# Page faults (a jump into an NX data page, a jump to the unmapped address
# 0, each the entry efimm called) and #GP, #UD, #DE and int3, each taken by
# a function on efimm's own page in the mm; and an invalid opcode inside
# the real firmware's code, rewritten from outside efimm (efimm_hostile).
# Exceptions anywhere else are not the firmware's: a stray jump to 0 oopses
# (scripts/guest-oops.sh).

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

EFIVARS=/sys/firmware/efi/efivars
FAULT=$EFIMM_DEBUGFS/fault
INJECT=$EFIMM_DEBUGFS/inject_fault
HOSTILE_KO=$(dirname "$0")/mmprobe/efimm_hostile.ko
HOSTILE=/sys/kernel/debug/efimm_hostile


boot_order() {
	cat "$EFIVARS"/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c
}

TAINT_FIRMWARE_WORKAROUND=$((1 << 11))

tainted_firmware_workaround() {
	(($(cat /proc/sys/kernel/tainted) & TAINT_FIRMWARE_WORKAROUND))
}

# kernel_path_errors: the errors of one GetTime through the kernel's path.
kernel_path_errors() {
	echo "get_time 1 kernel" >"$EFIMM_DEBUGFS/bench" && bench_value errors
}

test_armed_at_load() {
	[ "$(cat "$INJECT")" = none ] && [ "$(fault_field faults)" = 0 ] &&
		[ "$(fault_field state)" = armed ]
}

# fault_cycle KIND EXCEPTION CAUSE: a routed efivarfs read takes the
# exception EXCEPTION in the "firmware".
fault_cycle() {
	local kind=$1 exception=$2 cause=$3 before after err faults kinds
	before=$(boot_order | od -An -tx1) || return 1
	faults=$(fault_field faults)
	kinds=$(fault_field "exception.$exception")
	dmesg_mark
	echo "$kind" >"$INJECT" || return 1
	# The faulting call gets EFI_ABORTED, which efivarfs turns into EINTR;
	# cat retries that and meets the disarmed efimm: EIO.
	if err=$(boot_order 2>&1 >/dev/null); then
		echo "# the read succeeded despite the fault"
		return 1
	fi
	echo "# faulting read: $err"
	echo "# fault file:"
	sed 's/^/#   /' "$FAULT"
	dmesg_new | grep efimm | sed 's/^/# dmesg: /'
	[ "$(fault_field faults)" -eq $((faults + 1)) ] &&
		[ "$(fault_field "exception.$exception")" -eq $((${kinds:-0} + 1)) ] &&
		[ "$(fault_field state)" = disarmed ] &&
		[ "$(fault_field last_service)" = get_variable ] &&
		[ "$(fault_field last_exception)" = "$exception" ] &&
		[ "$(fault_field last_cause)" = "$cause" ] &&
		[ "$(cat "$INJECT")" = none ] &&
		dmesg_new | grep -q "efimm: get_variable took $exception at ip" || return 1
	# Disarmed: efivarfs gets EIO (EFI_DEVICE_ERROR), efimm's bench EIO,
	# the kernel's path EFI_DEVICE_ERROR, and the kernel is tainted.
	err=$(boot_order 2>&1 >/dev/null) && return 1
	echo "# while disarmed: $err"
	echo "get_time 1 efimm" 2>/dev/null >"$EFIMM_DEBUGFS/bench" && return 1
	echo "# the kernel's path while disarmed: $(kernel_path_errors) errors," \
		"last $(bench_value last_error); tainted $(cat /proc/sys/kernel/tainted)"
	[ "$(kernel_path_errors)" = 1 ] && tainted_firmware_workaround &&
		dmesg_new | grep -q 'runtime services closed after an exception in the firmware' ||
		return 1
	dmesg_mark
	echo rearm >"$FAULT" || return 1
	after=$(boot_order | od -An -tx1) || return 1
	[ "$(fault_field state)" = armed ] && [ "$before" = "$after" ] &&
		echo "get_time 3 efimm" >"$EFIMM_DEBUGFS/bench" &&
		[ "$(kernel_path_errors)" = 0 ] &&
		dmesg_new | grep -q 'runtime services reopened after an exception in the firmware'
}

# on_stub_page IP: IP lies on efimm's own page (the null call's).
on_stub_page() {
	local page
	page=$(awk '$1 == "null_call_page" { print $2 }' "$EFIMM_DEBUGFS/page_tables_summary")
	[ $(($1)) -ge $((page)) ] && [ $(($1)) -lt $((page + 4096)) ]
}

# in_a_region ADDR: ADDR lies in one of the runtime regions efimm maps.
in_a_region() {
	local a=$(($1)) range
	while read -r range _; do
		[ "$a" -ge $((${range%-*})) ] && [ "$a" -lt $((${range#*-})) ] && return 0
	done <"$EFIMM_DEBUGFS/regions"
	return 1
}

# in_runtime_code ADDR: ADDR lies in a runtime services code region
# (type 5) of the kernel's runtime map.
in_runtime_code() {
	local a=$(($1)) d start pages
	for d in /sys/firmware/efi/runtime-map/*; do
		[ $(($(cat "$d/type"))) -eq 5 ] || continue
		start=$(($(cat "$d/virt_addr")))
		pages=$(($(cat "$d/num_pages")))
		[ "$a" -ge "$start" ] && [ "$a" -lt $((start + pages * 4096)) ] && return 0
	done
	return 1
}

# The real GetTime rewritten into nop; ud2: an exception past the entry
# efimm called, in the firmware's own code, is contained like the others.
test_real_code() {
	local entry ip faults armed=0
	faults=$(fault_field faults)
	insmod "$HOSTILE_KO" || return 1
	entry=$(awk '$1 == "get_time_entry" { print $2 }' "$HOSTILE")
	if echo "arm ud" >"$HOSTILE"; then
		armed=1
		echo "get_time 1 efimm" >"$EFIMM_DEBUGFS/bench"
		echo disarm >"$HOSTILE" || armed=0
	fi
	rmmod efimm_hostile || return 1
	ip=$(fault_field last_ip)
	echo "# GetTime at $entry: $(bench_value last_error), $(fault_field last_exception) at $ip"
	[ "$armed" = 1 ] && [ "$(bench_value errors)" = 1 ] &&
		[ "$(bench_value last_error)" = EFI_ABORTED ] &&
		[ "$(fault_field faults)" -eq $((faults + 1)) ] &&
		[ "$(fault_field state)" = disarmed ] &&
		[ "$(fault_field last_service)" = get_time ] &&
		[ "$(fault_field last_exception)" = invalid_opcode ] &&
		[ $((ip)) -eq $((entry + 1)) ] && in_runtime_code "$ip" &&
		! on_stub_page "$ip" || return 1
	echo rearm >"$FAULT" && [ "$(fault_field state)" = armed ] &&
		echo "get_time 3 efimm" >"$EFIMM_DEBUGFS/bench" &&
		[ "$(kernel_path_errors)" = 0 ]
}

test_nx() {
	fault_cycle nx page_fault "supervisor instruction fetch, permissions violation" &&
		[ "$(fault_field last_address)" = "$(fault_field last_ip)" ] &&
		in_a_region "$(fault_field last_address)"
}

test_unmapped() {
	fault_cycle unmapped page_fault "supervisor instruction fetch, not-present page" &&
		[ "$(fault_field last_address)" = 0x0 ] && [ "$(fault_field last_ip)" = 0x0 ]
}

# test_exception KIND EXCEPTION CAUSE: an exception other than a page fault.
test_exception() {
	fault_cycle "$@" && [ "$(fault_field last_address)" = 0x0 ] &&
		on_stub_page "$(fault_field last_ip)"
}

test_gp() {
	test_exception gp general_protection "general protection fault"
}

test_ud() {
	test_exception ud invalid_opcode "invalid opcode"
}

test_de() {
	test_exception de divide_error "divide error"
}

test_int3() {
	test_exception int3 breakpoint int3
}

test_bad_writes() {
	local w
	for w in foo "rearm x" nx2 GP ud2 int; do
		printf '%s' "$w" 2>/dev/null >"$FAULT" && return 1
		printf '%s' "$w" 2>/dev/null >"$INJECT" && return 1
	done
	# What only a user task can contain: at CPL0 these would halt, write
	# an MSR or kernel memory through %rbp, or spin forever.
	for w in hlt wrmsr kernel_read write_ro syscall hang port oversize \
		huge_size forge leak_store leak_load fake_return; do
		if echo "$w" 2>/dev/null >"$INJECT"; then
			echo "# inject_fault took $w at CPL0"
			return 1
		fi
	done
	[ "$(cat "$INJECT")" = none ]
}

# The kernel's path stays closed without efimm; a new efimm starts
# disarmed, and re-arming it opens both.
test_unload_disarmed() {
	echo nx >"$INJECT" && echo "get_time 1 efimm" 2>/dev/null >"$EFIMM_DEBUGFS/bench"
	[ "$(fault_field state)" = disarmed ] || return 1
	dmesg_mark
	efimm_unload && dmesg_new | grep -q 'dedicated mm released (mm_users 0)' || return 1
	efimm_load route=0 && [ "$(fault_field state)" = disarmed ] &&
		[ "$(kernel_path_errors)" = 1 ] && echo rearm >"$FAULT" &&
		[ "$(fault_field state)" = armed ] &&
		[ "$(kernel_path_errors)" = 0 ] && efimm_unload
}

require_lowmap
ktap_print_header
# A fresh efimm: nothing armed, routing on.
efimm_unload && efimm_load route=1 || ktap_exit_fail_msg "cannot load efimm"
if [ ! -e "$INJECT" ]; then
	ktap_skip_all "kernel without CONFIG_FAULT_INJECTION_DEBUG_FS: no inject_fault"
	efimm_unload
	exit "$KSFT_SKIP"
fi
ktap_set_plan 10
ktap_test_result "armed, nothing injected at load" test_armed_at_load
ktap_test_result "NX jump: caller gets an error, fault described, refused until re-armed" test_nx
ktap_test_result "jump to 0: caller gets an error, fault described, refused until re-armed" test_unmapped
ktap_test_result "GP fault: contained, counted, refused until re-armed" test_gp
ktap_test_result "invalid opcode: contained, counted, refused until re-armed" test_ud
ktap_test_result "divide error: contained, counted, refused until re-armed" test_de
ktap_test_result "int3: contained, counted, refused until re-armed" test_int3
ktap_test_result "invalid opcode in the real firmware's code: contained, ip inside a runtime code region" test_real_code
ktap_test_result "malformed writes to fault and inject_fault, and cpl3-only faults, are refused" test_bad_writes
ktap_test_result "unloading while disarmed frees the mm; the kernel's path stays closed until a new efimm is re-armed" test_unload_disarmed
ktap_finished
