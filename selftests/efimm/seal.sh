#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mode=cpl3 with the seal on (the default): the firmware may rewrite at
# CPL3 its own code, data and the runtime services table, so loading efimm
# in cpl3 mode seals runtime services off from kernel mode for the rest of
# the boot. Run in a boot whose facts already loaded it: every path the
# kernel has into the firmware is closed (efivarfs' and the non-blocking
# ones refuse, and probes on its firmware bracket see no call), efimm may
# not load at cpl0, the seal outlives efimm, and routed through efimm at
# CPL3 the same reads and writes still work.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

EFIVARS=/sys/firmware/efi/efivars
# A variable of efimm's own tests (the efivarfs kselftest's GUID).
TEST_VAR=$EFIVARS/efimm-seal-test-210be57c-9849-4fc7-a635-e6382d1aec27
HOSTILE_KO=$(dirname "$0")/mmprobe/efimm_hostile.ko
NB=/sys/kernel/debug/efimm_kernel_nb
EFI_DEVICE_ERROR=0x8000000000000007

mode_field() {
	awk -v k="$1" '$1 == k { print $2 }' "$EFIMM_DEBUGFS/mode"
}

route() {
	echo "$1" >"$EFIMM_DEBUGFS/route"
}

# watched CMD...: run CMD with probes on the kernel's own firmware bracket
# (watch_kernel_path); WATCHED is how many calls they saw.
watched() {
	local before rc
	echo 1 >"$EFIMM_DEBUGFS/watch_kernel_path" || return 1
	before=$(counter kernel.watched_calls)
	"$@"
	rc=$?
	WATCHED=$(($(counter kernel.watched_calls) - before))
	echo 0 >"$EFIMM_DEBUGFS/watch_kernel_path"
	return $rc
}

read_boot_order() {
	cat "$EFIVARS"/BootOrder-* >/dev/null 2>&1
}

# Four attribute bytes (non-volatile, boot and runtime access), one of data.
write_test_var() {
	printf '\x07\x00\x00\x00\x5a' >"$TEST_VAR" 2>/dev/null
}

# efivarfs makes a variable immutable but for its own kselftest's way.
delete_test_var() {
	chattr -i "$TEST_VAR" && rm "$TEST_VAR"
}

test_sealed_once() {
	local n
	efimm_load || return 1
	n=$(dmesg | grep -c 'efi: runtime services sealed')
	echo "# seal messages: $n; efimm: sealed $(mode_field sealed), seal $(mode_field seal)"
	[ "$n" = 1 ] && [ "$(mode_field sealed)" = 1 ] && [ "$(head -n 1 "$EFIMM_DEBUGFS/mode")" = cpl3 ]
}

test_cpl0_refused() {
	local out
	efimm_unload || return 1
	dmesg_mark
	if out=$(insmod "$EFIMM_KO" mode=cpl0 2>&1); then
		echo "# efimm loaded at cpl0"
		efimm_unload
		return 1
	fi
	echo "# insmod: $out"
	dmesg_new | grep -q 'efimm: mode=cpl0: the firmware has run at CPL3 in this boot'
}

# Unrouted, efivarfs takes the kernel's own path, which refuses: reads and
# writes fail with EIO (BootOrder exists: routed, it reads below), and not
# one call reaches the firmware's bracket.
test_kernel_path_closed() {
	local err
	efimm_load route=0 || return 1
	if watched read_boot_order; then
		echo "# the kernel's path read BootOrder"
		return 1
	fi
	local reads=$WATCHED
	err=$(cat "$EFIVARS"/BootOrder-* 2>&1 >/dev/null)
	if watched write_test_var; then
		echo "# the kernel's path wrote a variable"
		return 1
	fi
	echo "# kernel path: read: $err; firmware calls seen: read $reads, write $WATCHED"
	[ "$reads" = 0 ] && [ "$WATCHED" = 0 ] && [[ $err == *"Input/output error"* ]]
}

# The kernel's non-blocking variable services (efi-pstore's at panic),
# which call the firmware directly rather than through efi_rts_wq: both
# refuse with EFI_DEVICE_ERROR, and reach no firmware.
test_nonblocking_closed() {
	efimm_load route=0 && insmod "$HOSTILE_KO" || return 1
	watched sh -c "echo 1 >$NB"
	local calls=$WATCHED
	echo "# $(tr '\n' ' ' <"$NB")firmware calls seen: $calls"
	local set query
	set=$(awk '$1 == "set_variable_nonblocking" { print $2 }' "$NB")
	query=$(awk '$1 == "query_variable_info_nonblocking" { print $2 }' "$NB")
	rmmod efimm_hostile || return 1
	[ "$set" = "$EFI_DEVICE_ERROR" ] && [ "$query" = "$EFI_DEVICE_ERROR" ] && [ "$calls" = 0 ]
}

# Routed, the same read and write go through efimm at CPL3.
test_routed_at_cpl3() {
	local calls
	route 1 || return 1
	calls=$(counter efimm.get_variable.calls)
	watched read_boot_order || { echo "# routed read failed"; return 1; }
	local reads=$WATCHED
	watched write_test_var || { echo "# routed write failed"; return 1; }
	local writes=$WATCHED
	delete_test_var || { echo "# routed delete failed"; return 1; }
	echo "# routed: efimm get_variable calls +$(($(counter efimm.get_variable.calls) - calls))," \
		"kernel path calls: read $reads, write $writes"
	[ "$reads" = 0 ] && [ "$writes" = 0 ] &&
		[ "$(counter efimm.get_variable.calls)" -gt "$calls" ] && route 0
}

# ResetSystem: refused through efimm at CPL3 (the firmware would need the
# reset ports, which it is not granted), and by the kernel's own path once
# sealed (reboot's way in, called here from the test module): the machine
# stays up, and efimm armed. Were either called, the boot would end here.
test_reset_refused() {
	local out
	dmesg_mark
	efimm_load route=0 || return 1
	if out=$(echo shutdown 2>&1 >"$EFIMM_DEBUGFS/reset"); then
		echo "# ResetSystem through efimm returned success"
		return 1
	fi
	echo "# through efimm: $out"
	insmod "$HOSTILE_KO" && echo shutdown >"$NB" && rmmod efimm_hostile || return 1
	echo "# kernel path: $(dmesg_new | grep -A1 'failed to invoke the reset_system' | tr '\n' ' ')"
	dmesg_new | grep -q 'EFI runtime services are disabled' &&
		grep -q '^state armed' "$EFIMM_DEBUGFS/fault"
}

# A one-way door: unloaded and loaded again, even with seal=0, efimm finds
# the kernel's path closed, and cpl3 calls still work.
test_seal_outlives_efimm() {
	efimm_unload && efimm_load seal=0 route=1 || return 1
	echo "# reloaded: sealed $(mode_field sealed), seal $(mode_field seal)"
	[ "$(mode_field sealed)" = 1 ] && [ "$(mode_field seal)" = 0 ] && read_boot_order &&
		route 0 && ! read_boot_order && efimm_unload
}

require_lowmap
ktap_print_header
ktap_set_plan 7
ktap_test_result "loading at cpl3 sealed the kernel's path, once" test_sealed_once
ktap_test_result "efimm refuses mode=cpl0 once sealed, and says why" test_cpl0_refused
ktap_test_result "the kernel's own path refuses efivarfs and enters no firmware" test_kernel_path_closed
ktap_test_result "the kernel's non-blocking calls refuse and enter no firmware" test_nonblocking_closed
ktap_test_result "routed through efimm at CPL3, the same read and write work" test_routed_at_cpl3
ktap_test_result "ResetSystem is refused at CPL3 and on the kernel's path; the VM stays up" test_reset_refused
ktap_test_result "the seal outlives efimm: reloaded with seal=0, still sealed" test_seal_outlives_efimm
efimm_unload
ktap_finished
