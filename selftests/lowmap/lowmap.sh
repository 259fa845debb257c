#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The efi=lowmap boot option: with it, every runtime region is at
# virtual == physical in the lower half, the EFI_VA_END..EFI_VA_START window
# of efi_mm is empty and dmesg says so; without it, the kernel keeps the
# classic high mapping. Either way the kernel's own runtime path works
# (efivarfs lists, writes, reads back and deletes a variable).

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

RUNTIME_MAP=/sys/firmware/efi/runtime-map
PTDUMP_EFI=/sys/kernel/debug/page_tables/efi
EFIVARS=/sys/firmware/efi/efivars
# EFI_VA_END (-68 GiB) and EFI_VA_START (-4 GiB), as ptdump prints them.
EFI_WINDOW_LO=0xffffffef00000000
EFI_WINDOW_HI=0xffffffff00000000
LOWER_HALF_END=0x0000800000000000
EFI_MEMORY_MAPPED_IO=11
TEST_GUID=b3b6bd1e-6e5f-4b38-9c8e-8d2ae0f1e6a1

lowmap=0
grep -qw 'efi=lowmap' /proc/cmdline && lowmap=1

# Print "virt phys type" per runtime region (type in decimal).
regions() {
	local d
	for d in "$RUNTIME_MAP"/*/; do
		echo "$(cat "$d/virt_addr") $(cat "$d/phys_addr") $(($(cat "$d/type")))"
	done
}

# Fixed-width lower-case hex, so that string order is numeric order.
hex16() {
	printf '0x%016x' "$1"
}

# Mapped ptdump lines (those with a protection string) that overlap the EFI
# window. Not-present ranges carry no RW/ro field.
mapped_in_window() {
	awk -v lo="$EFI_WINDOW_LO" -v hi="$EFI_WINDOW_HI" '
		$1 ~ /^0x[0-9a-f]+-0x[0-9a-f]+$/ && / (RW|ro) / {
			split($1, r, "-")
			if (r[1] < hi && r[2] > lo) print
		}' "$PTDUMP_EFI"
}

test_all_one_to_one() {
	local virt phys type bad=0
	while read -r virt phys type; do
		if [ "$virt" != "$phys" ]; then
			echo "# region type $type: virt $virt != phys $phys"
			bad=1
		elif [[ "$(hex16 "$virt")" > "$LOWER_HALF_END" ]] ||
		     [ "$(hex16 "$virt")" = "$LOWER_HALF_END" ]; then
			echo "# region type $type at $virt is not in the lower half"
			bad=1
		fi
	done < <(regions)
	return $bad
}

test_all_in_window() {
	local virt phys type v bad=0
	while read -r virt phys type; do
		v=$(hex16 "$virt")
		if [[ "$v" < "$EFI_WINDOW_LO" ]] || [[ ! "$v" < "$EFI_WINDOW_HI" ]]; then
			echo "# region type $type at $virt is outside the EFI window"
			bad=1
		fi
	done < <(regions)
	return $bad
}

test_window_empty() {
	local lines
	lines=$(mapped_in_window)
	[ -z "$lines" ] && return 0
	echo "$lines" | head -n 5 | sed 's/^/# mapped: /'
	return 1
}

test_window_used() {
	[ -n "$(mapped_in_window)" ]
}

test_dmesg_says_lowmap() {
	dmesg | grep -q 'efi: Runtime services mapped 1:1 in the lower half (efi=lowmap)'
}

test_dmesg_silent() {
	! dmesg | grep -q 'efi: .*lowmap'
}

test_mmio_region_present() {
	regions | awk -v t=$EFI_MEMORY_MAPPED_IO '$3 == t { found = 1 } END { exit !found }'
}

test_efivarfs_lists() {
	[ "$(ls "$EFIVARS" | wc -l)" -gt 0 ] && ls "$EFIVARS" | grep -q '^BootOrder-'
}

test_efivarfs_write_read_delete() {
	local f=$EFIVARS/EfimmLowmapTest-$TEST_GUID got
	# attributes: NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS
	printf '\x07\x00\x00\x00lowmap' >"$f" || return 1
	# efivarfs files cannot seek: skip the attributes by reading through.
	got=$(cat "$f" | tail -c +5)
	chattr -i "$f"
	rm -f "$f" || return 1
	[ "$got" = lowmap ] && [ ! -e "$f" ]
}

ktap_print_header
if [ ! -d "$RUNTIME_MAP" ] || [ ! -r "$PTDUMP_EFI" ]; then
	ktap_skip_all "needs EFI runtime services, CONFIG_EFI_RUNTIME_MAP and CONFIG_PTDUMP_DEBUGFS"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 6
if [ $lowmap -eq 1 ]; then
	ktap_test_result "efi=lowmap: every runtime region is 1:1 in the lower half" test_all_one_to_one
	ktap_test_result "efi=lowmap: nothing mapped in the EFI_VA window of efi_mm" test_window_empty
	ktap_test_result "efi=lowmap: dmesg reports the 1:1 layout" test_dmesg_says_lowmap
else
	ktap_test_result "default: every runtime region is in the EFI_VA window" test_all_in_window
	ktap_test_result "default: efi_mm maps the EFI_VA window" test_window_used
	ktap_test_result "default: dmesg does not mention lowmap" test_dmesg_silent
fi
if [ "${EFIMM_FW:-}" = pflash ]; then
	ktap_test_result "pflash: the flash MMIO region is a runtime region" test_mmio_region_present
else
	ktap_test_result "bios: no MMIO runtime region" eval '! test_mmio_region_present'
fi
ktap_test_result "efivarfs lists the firmware's variables" test_efivarfs_lists
ktap_test_result "efivarfs writes, reads back and deletes a variable" test_efivarfs_write_read_delete
ktap_finished
