#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every runtime service but ResetSystem runs through efimm's own typed
# requests (debugfs bench) and gets what the kernel's path gets from the
# firmware: the same number of failures and the same last status. This
# covers the services efi_test cannot reach (UpdateCapsule) and checks
# each service's request layout against the kernel's wrappers.

. "$KSFT_DIR/ktap_helpers.sh"
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

require_lowmap
efimm_load || ktap_exit_fail_msg "cannot load efimm"
ktap_print_header
ktap_set_plan $(echo $SERVICES | wc -w)
for svc in $SERVICES; do
	ktap_test_result "$svc: same outcome through efimm as through the kernel" same_result "$svc"
done
efimm_unload
ktap_finished
