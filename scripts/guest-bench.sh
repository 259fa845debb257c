#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make bench: every measured service through both
# paths, interleaved in blocks so that drift hits both alike; then through
# efimm with the firmware at CPL3 (mode=cpl3), after them.
# Usage: guest-bench.sh OUTDIR  (counts come from BENCH_* in the environment)

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"
d=/sys/kernel/debug/efimm
mkdir -p "$out/raw"

t0=$(date +%s%N)
insmod "$EFIMM_KO" || exit 1
echo "load_ns $(($(date +%s%N) - t0))" >"$out/module.txt"
cat "$d/page_tables_summary" >"$out/efimm_summary.txt"
cat "$d/page_tables" >"$out/efimm_ptdump.txt"
cat /sys/kernel/debug/page_tables/efi >"$out/efi_mm_ptdump.txt"

blocks=$BENCH_BLOCKS
for spec in $BENCH_SPECS; do
	svc=${spec%%:*}
	per_block=$((${spec#*:} / blocks))
	for b in $(seq 1 "$blocks"); do
		# Alternate which path goes first.
		if [ $((b % 2)) -eq 0 ]; then order="efimm kernel"; else order="kernel efimm"; fi
		for path in $order; do
			# The null call is efimm's alone.
			[ "$svc" = null ] && [ "$path" = kernel ] && continue
			echo "$svc $per_block $path" >"$d/bench" &&
				cat "$d/bench" >"$out/raw/$svc.$path.$b"
		done
	done
	echo "bench: $svc done"
done
# Preemption-off stretches, in a pass of their own: the kernel's path is
# only timed with its probes armed, which slow it down (watch_kernel_path).
echo 1 >"$d/watch_kernel_path"
echo 0 >"$d/counters"
for spec in $BENCH_SPECS; do
	svc=${spec%%:*}
	n=$((${spec#*:} / 10))
	for path in efimm kernel; do
		[ "$svc" = null ] && [ "$path" = kernel ] && continue
		echo "$svc $n $path" >"$d/bench"
	done
done
echo 0 >"$d/watch_kernel_path"
echo "bench: preemption-off pass done"
cat "$d/counters" >"$out/counters.txt"
# Real-time lateness: a SCHED_FIFO thread pinned to each CPU (rtlat) at
# idle, then while each slow service runs in a loop through each path,
# with the kernel path's probes armed for its preemption-off stretches.
# set_variable_4k writes and deletes a 4 KiB variable through efivarfs,
# routed through efimm or not: flash writes long enough to stand out of
# TCG's own lateness.
rtlat=$EFIMM_KSFT_INSTALL/efimm/rtlat
var=/sys/firmware/efi/efivars/EfimmRt-4e6f8b4a-ef1c-4d2e-9a3b-6566696d6d00
mkdir -p "$out/rt"
printf '\007\000\000\000' >"$out/var4k"
head -c 4096 /dev/urandom >>"$out/var4k"
echo 1 >"$d/watch_kernel_path"
"$rtlat" "sleep $BENCH_RT_IDLE_S" >"$out/rt/idle" || exit 1
for spec in $BENCH_RT_SPECS; do
	svc=${spec%%:*}
	n=${spec#*:}
	echo 0 >"$d/counters"
	for path in kernel efimm; do
		# The spin call is efimm's alone.
		[ "$svc" = spin ] && [ "$path" = kernel ] && continue
		case "$svc" in
		set_variable_4k)
			[ "$path" = efimm ] && echo 1 >"$d/route"
			cmd="for i in \$(seq $n); do cat $out/var4k >$var && chattr -i $var && rm $var || exit 1; done"
			;;
		*)
			cmd="echo '$svc $n $path' >$d/bench"
			;;
		esac
		"$rtlat" "$cmd" >"$out/rt/$svc.$path" || exit 1
		echo 0 >"$d/route"
		[ "$svc" = set_variable_4k ] || cat "$d/bench" >"$out/rt/$svc.$path.bench"
	done
	cat "$d/counters" >"$out/rt/$svc.counters"
done
echo 0 >"$d/watch_kernel_path"
echo "bench: real-time lateness pass done"

# The firmware at CPL3 (mode=cpl3), a third path: the same calls, the
# preemption-off pass and the real-time pass through efimm alone, its
# counters renamed cpl3.* beside the others.
rmmod efimm
insmod "$EFIMM_KO" mode=cpl3 || exit 1
for spec in $BENCH_SPECS; do
	svc=${spec%%:*}
	per_block=$((${spec#*:} / blocks))
	for b in $(seq 1 "$blocks"); do
		echo "$svc $per_block efimm" >"$d/bench" &&
			cat "$d/bench" >"$out/raw/$svc.cpl3.$b"
	done
	echo "bench: $svc at CPL3 done"
done
cpl3_counters() {
	sed -n 's/^efimm\./cpl3./p' "$d/counters"
}
echo 0 >"$d/counters"
for spec in $BENCH_SPECS; do
	svc=${spec%%:*}
	echo "$svc $((${spec#*:} / 10)) efimm" >"$d/bench"
done
cpl3_counters >>"$out/counters.txt"
for spec in $BENCH_RT_SPECS; do
	svc=${spec%%:*}
	n=${spec#*:}
	echo 0 >"$d/counters"
	case "$svc" in
	set_variable_4k)
		echo 1 >"$d/route"
		cmd="for i in \$(seq $n); do cat $out/var4k >$var && chattr -i $var && rm $var || exit 1; done"
		;;
	*)
		cmd="echo '$svc $n efimm' >$d/bench"
		;;
	esac
	"$rtlat" "$cmd" >"$out/rt/$svc.cpl3" || exit 1
	echo 0 >"$d/route"
	[ "$svc" = set_variable_4k ] || cat "$d/bench" >"$out/rt/$svc.cpl3.bench"
	cpl3_counters >>"$out/rt/$svc.counters"
done
echo "bench: CPL3 passes done"
rmmod efimm
echo EFIMM-END >"$out/done"
