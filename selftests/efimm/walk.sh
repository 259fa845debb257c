#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The firmware's mm as the CPU sees it, judged against what the kernel
# says, not what efimm reports. The real firmware's GetTime is rewritten
# into a 250 ms loop (efimm_hostile, "arm spin") and called through efimm
# at CPL0 and through the kernel's own path; while it runs, efimm_mmprobe
# walks the lower half of the page tables loaded on the CPU running it
# (its CR3), every level's permissions combined. The walks are checked
# page by page against the kernel's runtime map
# (/sys/firmware/efi/runtime-map) and against each other:
#  - every page of every runtime region is mapped in efimm's mm, 1:1;
#  - nothing else is, but one read-only page of efimm's own (its stubs);
#  - every page is supervisor-only and non-global;
#  - no page is writable or executable where the kernel's efi_mm, to
#    which the kernel applied the Memory Attributes Table, has it
#    read-only or no-execute.
# The kernel's efi_mm, walked the same way, is the positive control: it
# maps page 0 beside the runtime regions, which the second check finds.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

HOSTILE_KO=$(dirname "$0")/mmprobe/efimm_hostile.ko
PROBE_KO=$(dirname "$0")/mmprobe/efimm_mmprobe.ko
HOSTILE=/sys/kernel/debug/efimm_hostile
MMWALK=/sys/kernel/debug/efimm_mmwalk
DIR=$(mktemp -d)
RUNTIME_MAP=$DIR/runtime-map
EFIMM_WALK=$DIR/efimm
KERNEL_WALK=$DIR/kernel
STATS=$DIR/stats

# take_walk PATH OUT: walk the tables a spinning GetTime through PATH
# (efimm or kernel) runs in, into OUT as decimal "start end phys user
# write nx global" lines; up to 5 calls, until one is caught running.
take_walk() {
	local entry call i caught=0 start end phys user write nx global
	entry=$(awk '$1 == "get_time_entry" { print $2 }' "$HOSTILE")
	for i in 1 2 3 4 5; do
		echo "get_time 1 $1" >"$EFIMM_DEBUGFS/bench" &
		call=$!
		while kill -0 "$call" 2>/dev/null; do
			if echo "$entry" 2>/dev/null >"$MMWALK"; then
				caught=1
				break
			fi
		done
		wait "$call" || return 1
		[ "$caught" = 1 ] && break
	done
	[ "$caught" = 1 ] || return 1
	head -n 1 "$MMWALK" | sed "s/^/# $1 path: walked on /"
	# shellcheck disable=SC2034 # the field names between the values
	tail -n +2 "$MMWALK" | while read -r start end phys _ user _ write _ nx _ global; do
		echo $((start)) $((end)) $((phys)) "$user" "$write" "$nx" "$global"
	done >"$2"
}

walk_header() {
	head -n 1 "$MMWALK"
}

# The runtime map, as decimal "virt pages type" lines.
read_runtime_map() {
	local d
	for d in /sys/firmware/efi/runtime-map/*; do
		echo $(($(cat "$d/virt_addr"))) $(($(cat "$d/num_pages"))) $(($(cat "$d/type")))
	done >"$RUNTIME_MAP"
}

# "key value" lines: the page-by-page comparison of the two walks with
# the runtime map. Page numbers reach 2^35 (efimm's own page): mawk turns
# integers past 2^31 into subscripts with CONVFMT, which must keep every
# digit.
compare() {
	awk -v CONVFMT=%.0f '
	FILENAME == ARGV[1] {
		for (p = $1 / 4096; p < $1 / 4096 + $2; p++)
			region[p] = 1
		next
	}
	{
		w = FILENAME == ARGV[2] ? "e" : "k"
		for (p = $1 / 4096; p < $2 / 4096; p++) {
			mapped[w, p] = 1
			phys[w, p] = $3 / 4096 + p - $1 / 4096
			user[w, p] = $4; write[w, p] = $5; nx[w, p] = $6; global[w, p] = $7
		}
	}
	END {
		split("r_pages e_missing e_not_1to1 e_outside e_outside_writable e_user e_global k_missing k_outside k_page0 looser_write looser_exec stricter equal", keys)
		for (i in keys)
			n[keys[i]] = 0
		for (p in region) {
			n["r_pages"]++
			if (!(("e", p) in mapped)) { n["e_missing"]++; continue }
			if (phys["e", p] != p + 0) n["e_not_1to1"]++
			if (!(("k", p) in mapped)) { n["k_missing"]++; continue }
			if (write["e", p] > write["k", p]) n["looser_write"]++
			if (nx["e", p] < nx["k", p]) n["looser_exec"]++
			if (write["e", p] == write["k", p] && nx["e", p] == nx["k", p])
				n["equal"]++
			else if (write["e", p] <= write["k", p] && nx["e", p] >= nx["k", p])
				n["stricter"]++
		}
		for (key in mapped) {
			split(key, wp, SUBSEP)
			w = wp[1]; p = wp[2]
			if (w == "e") {
				n["e_user"] += user[w, p]
				n["e_global"] += global[w, p]
			}
			if (!(p in region)) {
				n[w "_outside"]++
				if (w == "e") n["e_outside_writable"] += write[w, p]
			}
		}
		n["k_page0"] = ("k", 0) in mapped
		for (k in n)
			print k, n[k]
	}' "$RUNTIME_MAP" "$EFIMM_WALK" "$KERNEL_WALK" >"$STATS"
}

# walk_count KEY: one count of compare's output.
walk_count() {
	awk -v k="$1" '$1 == k { print $2 }' "$STATS"
}

test_walk_efimm() {
	take_walk efimm "$EFIMM_WALK" && walk_header | grep -q '^cpu [0-9]* comm efimm runs [1-9]'
}

test_walk_kernel() {
	take_walk kernel "$KERNEL_WALK" && walk_header | grep -q '^cpu [0-9]* comm kworker/.* runs [1-9]' &&
		read_runtime_map && compare && sed 's/^/# /' "$STATS"
}

test_every_region_mapped_1to1() {
	[ "$(walk_count r_pages)" -gt 0 ] && [ "$(walk_count e_missing)" = 0 ] && [ "$(walk_count e_not_1to1)" = 0 ]
}

test_nothing_else_mapped() {
	[ "$(walk_count e_outside)" = 1 ] && [ "$(walk_count e_outside_writable)" = 0 ]
}

test_the_kernels_mm_maps_more() {
	[ "$(walk_count k_missing)" = 0 ] && [ "$(walk_count k_page0)" = 1 ] && [ "$(walk_count k_outside)" -gt 0 ]
}

test_supervisor_non_global() {
	[ "$(walk_count e_user)" = 0 ] && [ "$(walk_count e_global)" = 0 ]
}

test_no_looser_than_efi_mm() {
	[ "$(walk_count looser_write)" = 0 ] && [ "$(walk_count looser_exec)" = 0 ] &&
		[ $(($(walk_count equal) + $(walk_count stricter))) = "$(walk_count r_pages)" ]
}

require_lowmap
ktap_print_header
efimm_unload && efimm_load route=0 || ktap_exit_fail_msg "cannot load efimm"
[ "$(head -n 1 "$EFIMM_DEBUGFS/mode")" = cpl0 ] || ktap_exit_fail_msg "efimm is not at cpl0"
insmod "$PROBE_KO" || ktap_exit_fail_msg "cannot load efimm_mmprobe"
if ! insmod "$HOSTILE_KO" || ! echo "arm spin" >"$HOSTILE"; then
	rmmod efimm_mmprobe
	ktap_exit_fail_msg "cannot rewrite the firmware's GetTime"
fi
ktap_set_plan 7
ktap_test_result "a walk of efimm's mm, on efimm's thread during a call" test_walk_efimm
ktap_test_result "a walk of efi_mm, on the kernel's worker during a call" test_walk_kernel
ktap_test_result "every page of every runtime region mapped in efimm's mm, 1:1" \
	test_every_region_mapped_1to1
ktap_test_result "nothing else mapped in efimm's mm but one read-only page of its own" \
	test_nothing_else_mapped
ktap_test_result "the control: efi_mm maps every region and more (page 0)" \
	test_the_kernels_mm_maps_more
ktap_test_result "every page of efimm's mm supervisor-only and non-global" \
	test_supervisor_non_global
ktap_test_result "no page of efimm's mm writable or executable where efi_mm's is not" \
	test_no_looser_than_efi_mm
echo disarm >"$HOSTILE"
rmmod efimm_hostile efimm_mmprobe
efimm_unload
rm -rf "$DIR"
ktap_finished
