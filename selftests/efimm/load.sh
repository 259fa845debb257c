#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# efimm loads only where it can work, refuses clearly otherwise, and
# unloads leaving nothing behind.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

PROBE_KO=$(dirname "$0")/mmprobe/efimm_mmprobe.ko

# insmod_fails ERROR_TEXT DMESG_TEXT ARGS...: insmod refuses with that
# error, the kernel log says why, and nothing is left loaded.
insmod_fails() {
	local errtext=$1 msg=$2 out
	shift 2
	dmesg_mark
	if out=$(insmod "$EFIMM_KO" "$@" 2>&1); then
		echo "# insmod $* succeeded"
		rmmod efimm
		return 1
	fi
	echo "# $out"
	echo "$out" | grep -q "$errtext" || return 1
	dmesg_new | grep -q "efimm: .*$msg" || { dmesg_new | sed 's/^/# dmesg: /'; return 1; }
	! efimm_loaded && [ ! -e "$EFIMM_DEBUGFS" ]
}

test_refuses_route_2() {
	insmod_fails "Invalid parameters" "route=2: must be 0 or 1" route=2
}

test_refuses_route_abc() {
	insmod_fails "Invalid parameters" "invalid for parameter .route" route=abc
}

test_refuses_without_lowmap() {
	insmod_fails "Operation not supported" "boot with efi=lowmap"
}

test_refuses_without_runtime() {
	insmod_fails "No such device" "EFI runtime services are not available"
}

# efi=lowmap with runtime services off: the kernel must not claim a 1:1
# map it never made (EFI_LOWMAP, which efimm trusts), as read by a test
# module of its own.
test_no_lowmap_without_runtime() {
	local flags
	insmod "$PROBE_KO" || return 1
	flags=$(cat /sys/kernel/debug/efimm_efi_flags)
	rmmod efimm_mmprobe
	echo "$flags" | sed 's/^/# /'
	echo "$flags" | grep -qx 'runtime_services 0' && echo "$flags" | grep -qx 'lowmap 0'
}

test_loads_and_unloads() {
	dmesg_mark
	efimm_load || return 1
	dmesg_new | grep -q 'efimm: ready: [0-9]* runtime regions' || return 1
	[ -r "$EFIMM_DEBUGFS/regions" ] || return 1
	efimm_unload || return 1
	[ ! -e "$EFIMM_DEBUGFS" ] && dmesg_new | grep -q 'efimm: dedicated mm released (mm_users 0)'
}

# While a debugfs file is open, efimm refuses to unload, as a C module
# does: unloaded, closing the file oopsed in full_proxy_release() (the
# Rust debugfs bindings name no owner; patch 13). Every kind of file:
# read-only, read-write and write-only.
test_open_files_hold_the_module() {
	local f refs
	for f in regions route reset; do
		efimm_load || return 1
		if [ "$f" = reset ]; then
			exec 3>"$EFIMM_DEBUGFS/$f" || return 1
		else
			exec 3<"$EFIMM_DEBUGFS/$f" || return 1
		fi
		# Checked before rmmod: unloaded, closing the file would oops.
		refs=$(cat /sys/module/efimm/refcnt)
		if [ "$refs" -lt 1 ]; then
			echo "# $f: open, but the module's refcount is $refs"
			exec 3>&-
			return 1
		fi
		if rmmod efimm 2>/dev/null; then
			echo "# $f: efimm unloaded while the file was open"
			exec 3>&-
			return 1
		fi
		exec 3>&-
		# Closed: the reference is gone at once.
		rmmod efimm || return 1
	done
}

# Nothing under debugfs/efimm is readable or writable by an unprivileged
# user, and no file is writable by anyone but its owner (root).
test_debugfs_is_root_only() {
	local f bad=0
	efimm_load || return 1
	for f in "$EFIMM_DEBUGFS"/*; do
		if as_nobody cat "$f" >/dev/null 2>&1; then
			echo "# nobody can read $f"
			bad=1
		fi
		if as_nobody sh -c "echo 0 >$f" 2>/dev/null; then
			echo "# nobody can write $f"
			bad=1
		fi
		if [ -n "$(find "$f" -maxdepth 0 -perm /022)" ] || [ "$(stat -c %u "$f")" != 0 ]; then
			echo "# $f: $(stat -c '%A %U' "$f")"
			bad=1
		fi
	done
	efimm_unload
	return $bad
}

# A module loaded from a task that may not use transparent huge pages
# (prctl PR_SET_THP_DISABLE, as service managers set it) gets the same
# mm: the 2M entries of the firmware's 2M-aligned stretches included.
test_loads_from_thp_disabled_task() {
	local normal nothp
	efimm_load || return 1
	normal=$(summary large_leaf_entries)
	efimm_unload || return 1
	"$(dirname "$0")/nothp" insmod "$EFIMM_KO" || return 1
	nothp=$(summary large_leaf_entries)
	efimm_unload || return 1
	echo "# 2M entries: $normal loaded normally, $nothp from a task without THP"
	[ -n "$normal" ] && [ "$normal" = "$nothp" ]
}

test_route_param_loads_routed() {
	efimm_load route=1 || return 1
	local r
	r=$(cat "$EFIMM_DEBUGFS/route")
	efimm_unload
	[ "$r" = 1 ]
}

# Every case loads efimm itself: start from unloaded, whatever ran before
# (services, which the kselftest runner puts first, leaves it loaded).
if ! efimm_unload; then
	echo "# cannot unload efimm before the test"
	exit "$KSFT_FAIL"
fi
ktap_print_header
if grep -qw 'efi=noruntime' /proc/cmdline; then
	ktap_set_plan 2
	ktap_test_result "without runtime services, insmod fails with ENODEV and says why" \
		test_refuses_without_runtime
	ktap_test_result "efi=lowmap is not advertised without runtime services" \
		test_no_lowmap_without_runtime
elif lowmap_booted; then
	ktap_set_plan 7
	ktap_test_result "loads, reports its regions, unloads and frees its mm" test_loads_and_unloads
	ktap_test_result "an open debugfs file keeps efimm loaded until closed" \
		test_open_files_hold_the_module
	ktap_test_result "loads the same from a task with THP disabled" \
		test_loads_from_thp_disabled_task
	ktap_test_result "debugfs/efimm is root-only" test_debugfs_is_root_only
	ktap_test_result "route=1 loads with routing on" test_route_param_loads_routed
	ktap_test_result "route=2 is refused with EINVAL and a reason" test_refuses_route_2
	ktap_test_result "route=abc is refused with EINVAL" test_refuses_route_abc
else
	ktap_set_plan 1
	ktap_test_result "without efi=lowmap, insmod fails with EOPNOTSUPP and says why" \
		test_refuses_without_lowmap
fi
ktap_finished
