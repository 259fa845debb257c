#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The firmware faults inside the dedicated mm (made to, through the
# inject_fault file of kernels built with CONFIG_FAULT_INJECTION_DEBUG_FS):
# the kernel survives, the caller gets an EFI error, the fault is counted
# and described in the `fault` file, efimm refuses calls until re-armed,
# and works again afterwards. Once with a jump into an NX data page, once
# with a jump to the unmapped address 0.

. "$KSFT_DIR/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

EFIVARS=/sys/firmware/efi/efivars
FAULT=$EFIMM_DEBUGFS/fault
INJECT=$EFIMM_DEBUGFS/inject_fault

fault_field() {
	awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$FAULT"
}

boot_order() {
	cat "$EFIVARS"/BootOrder-8be4df61-93ca-11d2-aa0d-00e098032b8c
}

test_armed_at_load() {
	[ "$(cat "$INJECT")" = none ] && [ "$(fault_field faults)" = 0 ] &&
		[ "$(fault_field state)" = armed ]
}

# fault_cycle KIND CAUSE: a routed efivarfs read faults in the firmware.
fault_cycle() {
	local kind=$1 cause=$2 before after err faults
	before=$(boot_order | od -An -tx1) || return 1
	faults=$(fault_field faults)
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
		[ "$(fault_field state)" = disarmed ] &&
		[ "$(fault_field last_service)" = get_variable ] &&
		[ "$(fault_field last_cause)" = "$cause" ] &&
		[ "$(fault_field last_address)" = "$(fault_field last_ip)" ] &&
		[ "$(cat "$INJECT")" = none ] &&
		dmesg_new | grep -q "efimm: get_variable faulted at" || return 1
	# Disarmed: efivarfs gets EIO (EFI_DEVICE_ERROR), efimm's bench EIO.
	err=$(boot_order 2>&1 >/dev/null) && return 1
	echo "# while disarmed: $err"
	echo "get_time 1 efimm" 2>/dev/null >"$EFIMM_DEBUGFS/bench" && return 1
	echo rearm >"$FAULT" || return 1
	after=$(boot_order | od -An -tx1) || return 1
	[ "$(fault_field state)" = armed ] && [ "$before" = "$after" ] &&
		echo "get_time 3 efimm" >"$EFIMM_DEBUGFS/bench"
}

# in_a_region ADDR: ADDR lies in one of the runtime regions efimm maps.
in_a_region() {
	local a=$(($1)) range
	while read -r range _; do
		[ "$a" -ge $((${range%-*})) ] && [ "$a" -lt $((${range#*-})) ] && return 0
	done <"$EFIMM_DEBUGFS/regions"
	return 1
}

test_nx() {
	fault_cycle nx "supervisor instruction fetch, permissions violation" &&
		in_a_region "$(fault_field last_address)"
}

test_unmapped() {
	fault_cycle unmapped "supervisor instruction fetch, not-present page" &&
		[ "$(fault_field last_address)" = 0x0 ]
}

test_bad_writes() {
	local w
	for w in foo "rearm x" nx2; do
		printf '%s' "$w" 2>/dev/null >"$FAULT" && return 1
		printf '%s' "$w" 2>/dev/null >"$INJECT" && return 1
	done
	[ "$(cat "$INJECT")" = none ]
}

test_unload_disarmed() {
	echo nx >"$INJECT" && echo "get_time 1 efimm" 2>/dev/null >"$EFIMM_DEBUGFS/bench"
	[ "$(fault_field state)" = disarmed ] || return 1
	dmesg_mark
	efimm_unload && dmesg_new | grep -q 'dedicated mm released (mm_users 0)'
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
ktap_set_plan 5
ktap_test_result "armed, nothing injected at load" test_armed_at_load
ktap_test_result "NX jump: caller gets an error, fault described, refused until re-armed" test_nx
ktap_test_result "jump to 0: caller gets an error, fault described, refused until re-armed" test_unmapped
ktap_test_result "malformed writes to fault and inject_fault are refused" test_bad_writes
ktap_test_result "unloading while disarmed frees the mm" test_unload_disarmed
ktap_finished
