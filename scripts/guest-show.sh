#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for `make run`: load efimm, show what it does, unload.
# Usage: guest-show.sh OUTDIR

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"

show() {
	echo "### $*"
	"$@" 2>&1
	echo
}

{
	show uname -r
	show cat /proc/cmdline
	# make run MODE=cpl3 boots with efimm.mode=cpl3.
	mode=$(sed -n 's/.*efimm[.]mode=\([a-z0-9]*\).*/\1/p' /proc/cmdline)
	show insmod "$EFIMM_KO" ${mode:+mode=$mode}
	show dmesg --notime --level=err,warn,info -k | grep -E 'efi|efimm' | tail -n 20
	d=/sys/kernel/debug/efimm
	for f in mode regions page_tables_summary page_tables; do
		show cat "$d/$f"
	done
	# A few calls through each path, then what they cost.
	declare -A median errors
	services="get_time get_variable get_next_variable query_variable_info
		get_next_high_mono_count set_variable"
	for svc in $services; do
		for path in efimm kernel; do
			echo "### echo '$svc 20 $path' > $d/bench"
			echo "$svc 20 $path" >"$d/bench" && grep -E '^(calls|errors|median_ns|p99_ns|tlb.cr3_loads)' "$d/bench"
			median[$svc.$path]=$(awk '$1 == "median_ns" {
				if ($2 >= 1000000) printf "%.2f ms", $2 / 1e6
				else printf "%.1f us", $2 / 1000 }' "$d/bench")
			errors[$svc.$path]=$(awk '$1 == "errors" { print $2 }' "$d/bench")
			echo
		done
	done
	show cat "$d/counters"

	# The same, in a few lines.
	echo "### summary"
	sum() { awk -v k="$1" '$1 == k { print $2 }' "$d/page_tables_summary"; }
	echo "firmware: $EFIMM_FW mode; $(wc -l <"$d/regions") runtime regions," \
		"$(sum runtime_pages) pages, $(sum mat_entries) MAT entries"
	bad=
	for k in global_pages unmapped_runtime_pages extra_mapped_pages; do
		[ "$(sum $k)" = 0 ] || bad="$bad $k=$(sum $k)"
	done
	# Every entry a user one in cpl3 mode, none in cpl0 mode.
	if [ "$mode" = cpl3 ]; then
		users=$(sum mapped_pages) kind=user
	else
		users=0 kind=supervisor-only
	fi
	[ "$(sum user_pages)" = "$users" ] || bad="$bad user_pages=$(sum user_pages)"
	[ "$(sum wx_pages)" = "$(sum planned_wx_pages)" ] || bad="$bad wx_pages=$(sum wx_pages)"
	echo "page tables: ${bad:-as planned: $kind, non-global, every runtime page mapped, nothing else}"
	echo "firmware runs at: ${mode:-cpl0}"
	# mode=cpl3 seals the kernel's own path at load: its column fails.
	if grep -qx 'sealed 1' "$d/mode"; then
		echo "kernel's path: sealed (the firmware ran at CPL3): it refuses every call until reboot"
	fi
	echo "firmware faults: $(awk '$1 == "faults" { print $2 }' "$d/fault")"
	printf '%-26s %6s %14s %14s %14s\n' service calls "efimm median" "kernel median" \
		"errors e/k"
	for svc in $services; do
		printf '%-26s %6s %14s %14s %14s\n' "$svc" 20 "${median[$svc.efimm]}" \
			"${median[$svc.kernel]}" "${errors[$svc.efimm]}/${errors[$svc.kernel]}"
	done
	echo

	show rmmod efimm
	show dmesg --notime -k | tail -n 3
	echo EFIMM-END
} >"$out/show.log" 2>&1
