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

# The control for the test above: the probe sees a global flush when
# there is one. Loading and unloading a module changes kernel page
# protections (set_memory_*()), which flushes kernel, global, TLB entries
# on every CPU; done while spin calls run through efimm, the count moves.
test_global_flushes_are_seen() {
	local bench loads=0
	echo 0 >"$EFIMM_DEBUGFS/counters"
	! grep -q '^efi_test ' /proc/modules || rmmod efi_test || return 1
	echo "spin 10 efimm" >"$EFIMM_DEBUGFS/bench" &
	bench=$!
	while kill -0 $bench 2>/dev/null; do
		insmod "$EFI_TEST_KO" && rmmod efi_test && loads=$((loads + 1))
	done
	wait $bench || return 1
	echo "# $loads loads of efi_test during 10 spin calls:" \
		"$(counter efimm.tlb.global_flushes) global flushes"
	[ "$loads" -gt 0 ] && [ "$(counter efimm.tlb.global_flushes)" -gt 0 ]
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
ktap_set_plan 3
ktap_test_result "$CALLS efimm calls: 0 global flushes, 0 remote shootdowns" test_efimm_tlb
ktap_test_result "global flushes during efimm calls are counted" test_global_flushes_are_seen
ktap_test_result "bench rejects malformed requests" test_bad_bench_writes_are_refused
efimm_unload
ktap_finished
