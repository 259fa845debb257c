#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The dedicated mm maps exactly the firmware's runtime regions, 1:1, with
# supervisor-only, non-global, never writable-and-executable PTEs.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

RUNTIME_MAP=/sys/firmware/efi/runtime-map
TYPE_NAMES=(ReservedMemoryType LoaderCode LoaderData BootServicesCode
	BootServicesData RuntimeServicesCode RuntimeServicesData
	ConventionalMemory UnusableMemory ACPIReclaimMemory ACPIMemoryNVS
	MemoryMappedIO MemoryMappedIOPortSpace PalCode PersistentMemory)

# "phys pages type attr" per runtime descriptor, as the firmware reported.
firmware_regions() {
	local d
	for d in "$RUNTIME_MAP"/*/; do
		printf '0x%x %d %s 0x%016x\n' "$(cat "$d/phys_addr")" \
			"$(($(cat "$d/num_pages")))" "${TYPE_NAMES[$(($(cat "$d/type")))]}" \
			"$(cat "$d/attribute")"
	done | sort
}

# The same four fields from efimm's regions file.
efimm_regions() {
	sed -E 's/^.* phys=(\S+) pages=(\S+) type=(\S+) attr=(\S+) .*$/\1 \2 \3 \4/' \
		"$EFIMM_DEBUGFS/regions" | sort
}

test_regions_match_runtime_map() {
	local fw ours
	fw=$(firmware_regions)
	ours=$(efimm_regions)
	[ -n "$fw" ] || return 1
	[ "$fw" = "$ours" ] && return 0
	diff <(echo "$fw") <(echo "$ours") | sed 's/^/# /'
	return 1
}

test_regions_are_one_to_one() {
	local range phys rest
	while read -r range phys rest; do
		[ $((${range%%-*})) -eq $((${phys#phys=})) ] || return 1
	done <"$EFIMM_DEBUGFS/regions"
}

expect_zero() {
	local v
	v=$(summary "$1")
	[ "$v" = 0 ] || { echo "# $1 = ${v:-missing}"; return 1; }
}

test_page_tables_in_ptdump_format() {
	local bad
	bad=$(grep -vE '^(---\[ .* \]---|0x[0-9a-f]{16}-0x[0-9a-f]{16} +[0-9]+[BKMGTPE] .*(pgd|p4d|pud|pmd|pte))$' \
		"$EFIMM_DEBUGFS/page_tables")
	[ -z "$bad" ] || { echo "$bad" | head -3 | sed 's/^/# /'; return 1; }
	! grep -qE ' (USR|GLB) ' "$EFIMM_DEBUGFS/page_tables"
}

test_mat_is_used() {
	[ "$(summary mat_entries)" -gt 0 ] && grep -q '(mat)' "$EFIMM_DEBUGFS/regions" &&
		grep -q 'RuntimeServicesCode.*RX(mat)' "$EFIMM_DEBUGFS/regions"
}

test_mmio_is_uncached() {
	if ! grep -q 'type=MemoryMappedIO' "$EFIMM_DEBUGFS/regions"; then
		[ "$EFIMM_FW" != pflash ]	# only pflash has flash MMIO
		return
	fi
	grep 'type=MemoryMappedIO' "$EFIMM_DEBUGFS/regions" | grep -q 'cache=UC' &&
		grep -E '^0x00000000ffc00000-' "$EFIMM_DEBUGFS/page_tables" | grep -q ' PCD '
}

require_lowmap
efimm_load || ktap_exit_fail_msg "cannot load efimm"
ktap_print_header
ktap_set_plan 10
ktap_test_result "regions match /sys/firmware/efi/runtime-map exactly" test_regions_match_runtime_map
ktap_test_result "every region is mapped at virtual == physical" test_regions_are_one_to_one
for key in wx_pages user_pages global_pages unmapped_runtime_pages extra_mapped_pages; do
	ktap_test_result "page_tables_summary: $key 0" expect_zero "$key"
done
ktap_test_result "page_tables reads like x86 ptdump, no USR or GLB entry" test_page_tables_in_ptdump_format
ktap_test_result "the Memory Attributes Table sets code RX" test_mat_is_used
ktap_test_result "MMIO runtime regions are mapped uncached" test_mmio_is_uncached
efimm_unload
ktap_finished
