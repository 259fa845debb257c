#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What efimm's calls cost the TLB: 1000 calls through efimm flush no global
# entry and shoot down no other CPU. The kernel path's numbers are printed
# beside them.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

CALLS=1000

bench() {
	echo "$1 $CALLS $2" >"$EFIMM_DEBUGFS/bench" || return 1
	sed "s/^/# $2: /" "$EFIMM_DEBUGFS/bench" | grep -E 'calls|errors|median|tlb\.(full|global|remote|cr3)'
}

test_efimm_tlb() {
	echo 0 >"$EFIMM_DEBUGFS/counters"
	bench get_time efimm || return 1
	bench get_time kernel || return 1
	echo "# counters: efimm.get_time.calls $(counter efimm.get_time.calls)"
	[ "$(counter efimm.get_time.calls)" -eq $CALLS ] &&
		[ "$(counter efimm.tlb.global_flushes)" -eq 0 ] &&
		[ "$(counter efimm.tlb.remote_shootdowns)" -eq 0 ]
}

test_bad_bench_writes_are_refused() {
	local w bad=0
	for w in "get_time" "get_time 10" "get_time 0 efimm" "get_time 100001 efimm" \
		"get_time ten efimm" "get_time 10 nowhere" "set_virtual_address_map 1 efimm" \
		"reset_system 1 efimm" "get_time 10 efimm extra" "$(head -c 200 /dev/zero | tr '\0' x)"; do
		if echo "$w" >"$EFIMM_DEBUGFS/bench" 2>/dev/null; then
			echo "# bench accepted '$w'"
			bad=1
		fi
	done
	return $bad
}

require_lowmap
efimm_load || ktap_exit_fail_msg "cannot load efimm"
ktap_print_header
ktap_set_plan 2
ktap_test_result "$CALLS efimm calls: 0 global flushes, 0 remote shootdowns" test_efimm_tlb
ktap_test_result "bench rejects malformed requests" test_bad_bench_writes_are_refused
efimm_unload
ktap_finished
