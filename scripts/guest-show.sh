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
	show insmod "$EFIMM_KO"
	show dmesg --notime --level=err,warn,info -k | grep -E 'efi|efimm' | tail -n 20
	d=/sys/kernel/debug/efimm
	for f in regions page_tables_summary page_tables; do
		show cat "$d/$f"
	done
	# A few calls through each path, then what they cost.
	for svc in get_time get_variable get_next_variable query_variable_info \
		get_next_high_mono_count set_variable; do
		for path in efimm kernel; do
			echo "### echo '$svc 20 $path' > $d/bench"
			echo "$svc 20 $path" >"$d/bench" && grep -E '^(calls|errors|median_ns|p99_ns|tlb.cr3_loads)' "$d/bench"
			echo
		done
	done
	show cat "$d/counters"
	show rmmod efimm
	show dmesg --notime -k | tail -n 3
	echo EFIMM-END
} >"$out/show.log" 2>&1
