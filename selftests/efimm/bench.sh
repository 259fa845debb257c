#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every runtime service but ResetSystem runs through efimm's own typed
# requests (debugfs bench) and gets what the kernel's path gets from the
# firmware: the same number of failures and the same last status. This
# covers the services efi_test cannot reach (UpdateCapsule) and checks
# each service's request layout against the kernel's wrappers.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

SERVICES="get_time set_time get_wakeup_time set_wakeup_time get_variable
	get_next_variable set_variable query_variable_info
	get_next_high_mono_count update_capsule query_capsule_caps"
CALLS=3

# result SERVICE PATH: "errors last_error" of a short run.
result() {
	echo "$1 $CALLS $2" >"$EFIMM_DEBUGFS/bench" || return 1
	awk '$1 == "errors" { e = $2 } $1 == "last_error" { l = $2 } END { print e, l }' \
		"$EFIMM_DEBUGFS/bench"
}

same_result() {
	local svc=$1 k e
	k=$(result "$svc" kernel) || return 1
	e=$(result "$svc" efimm) || return 1
	echo "# $svc: kernel '$k', efimm '$e'"
	[ "$k" = "$e" ] && [ "$(counter "efimm.$svc.calls")" -ge $CALLS ]
}

# The null call: efimm's path into a function of its own that returns
# EFI_SUCCESS at once, mapped RX like firmware code in one page; the
# kernel's path has none.
test_null_call() {
	echo "null 100 efimm" >"$EFIMM_DEBUGFS/bench" || return 1
	echo "# null call through efimm: median $(bench_value median_ns) ns," \
		"p99 $(bench_value p99_ns) ns"
	[ "$(bench_value service)" = null ] && [ "$(bench_value calls)" = 100 ] &&
		[ "$(bench_value errors)" = 0 ] && [ "$(bench_value median_ns)" -gt 0 ] &&
		[ "$(summary null_call_pages)" = 1 ] &&
		! echo "null 1 kernel" 2>/dev/null >"$EFIMM_DEBUGFS/bench"
}

# The spin call: the same path into a function that keeps its CPU busy
# before it returns, as a long firmware call does (make bench measures
# real-time threads around it). Preemptible, it is switched out.
test_spin_call() {
	echo "spin 3 efimm" >"$EFIMM_DEBUGFS/bench" || return 1
	echo "# spin call through efimm: median $(bench_value median_ns) ns"
	[ "$(bench_value service)" = spin ] && [ "$(bench_value calls)" = 3 ] &&
		[ "$(bench_value errors)" = 0 ] && [ -n "$(bench_value switched_out)" ] &&
		! echo "spin 1 kernel" 2>/dev/null >"$EFIMM_DEBUGFS/bench"
}

require_lowmap
efimm_load || ktap_exit_fail_msg "cannot load efimm"
ktap_print_header
ktap_set_plan $(($(echo $SERVICES | wc -w) + 2))
for svc in $SERVICES; do
	ktap_test_result "$svc: same outcome through efimm as through the kernel" same_result "$svc"
done
ktap_test_result "the null call runs through efimm's path, not the kernel's" test_null_call
ktap_test_result "the spin call runs through efimm's path, not the kernel's" test_spin_call
efimm_unload
ktap_finished
