#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make bench: every measured service through both
# paths, interleaved in blocks so that drift hits both alike. With
# BENCH_CPL3=1 (a boot of its own, with a fresh variable store), through
# efimm with the firmware at CPL3 (mode=cpl3) alone, as a third path named
# cpl3 in the file names and counters.
# Usage: guest-bench.sh OUTDIR  (counts come from BENCH_* in the environment)

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"
d=/sys/kernel/debug/efimm
mkdir -p "$out/raw"

if [ "${BENCH_CPL3:-0}" = 1 ]; then
	PATHS=cpl3 MODE_ARG=mode=cpl3
else
	PATHS="kernel efimm" MODE_ARG=
fi
# path_arg PATH: bench's path for PATH (cpl3 is efimm's, in cpl3 mode).
path_arg() {
	[ "$1" = cpl3 ] && echo efimm || echo "$1"
}
# The counters of a cpl3 boot are efimm's, named cpl3.
counters() {
	if [ "${BENCH_CPL3:-0}" = 1 ]; then
		sed -n 's/^efimm\./cpl3./p' "$d/counters"
	else
		cat "$d/counters"
	fi
}

t0=$(date +%s%N)
insmod "$EFIMM_KO" $MODE_ARG || exit 1
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
		order=$PATHS
		[ $((b % 2)) -eq 0 ] && order=$(echo $PATHS | tr ' ' '\n' | tac)
		for path in $order; do
			# The null call is efimm's alone.
			[ "$svc" = null ] && [ "$path" = kernel ] && continue
			echo "$svc $per_block $(path_arg "$path")" >"$d/bench" &&
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
	for path in $PATHS; do
		[ "$svc" = null ] && [ "$path" = kernel ] && continue
		echo "$svc $n $(path_arg "$path")" >"$d/bench"
	done
done
echo 0 >"$d/watch_kernel_path"
echo "bench: preemption-off pass done"
counters >"$out/counters.txt"
# Real-time lateness: cyclictest's SCHED_FIFO thread on each CPU
# (guest-cyclictest.sh) at idle, then while each slow service runs in a
# loop through each path, with the kernel path's probes armed for its
# preemption-off stretches.
# set_variable_4k writes and deletes a 4 KiB variable through efivarfs,
# routed through efimm or not: flash writes long enough to stand out of
# TCG's own lateness.
cyclictest=$EFIMM_TOP/scripts/guest-cyclictest.sh
var=/sys/firmware/efi/efivars/EfimmRt-4e6f8b4a-ef1c-4d2e-9a3b-6566696d6d00
mkdir -p "$out/rt"
printf '\007\000\000\000' >"$out/var4k"
head -c 4096 /dev/urandom >>"$out/var4k"
# get_time_spin: the real firmware's GetTime rewritten into a 250 ms loop
# (efimm_hostile's "arm spin", from the kselftests), a long CPU-bound call
# of the firmware's own through either path.
hostile=$EFIMM_KSFT_INSTALL/efimm/mmprobe/efimm_hostile.ko
# rt_command SERVICE N PATH: what runs while cyclictest measures.
rt_command() {
	case "$1" in
	set_variable_4k)
		echo "for i in \$(seq $2); do cat $out/var4k >$var && chattr -i $var && rm $var || exit 1; done"
		;;
	get_time_spin)
		echo "echo 'get_time $2 $3' >$d/bench"
		;;
	*)
		echo "echo '$1 $2 $3' >$d/bench"
		;;
	esac
}
echo 1 >"$d/watch_kernel_path"
"$cyclictest" "sleep $BENCH_RT_IDLE_S" >"$out/rt/idle" || exit 1
for spec in $BENCH_RT_SPECS; do
	svc=${spec%%:*}
	n=${spec#*:}
	echo 0 >"$d/counters"
	if [ "$svc" = get_time_spin ]; then
		insmod "$hostile" && echo "arm spin" >/sys/kernel/debug/efimm_hostile || exit 1
	fi
	for path in $PATHS; do
		# The spin call is efimm's alone.
		[ "$svc" = spin ] && [ "$path" = kernel ] && continue
		[ "$svc" = set_variable_4k ] && [ "$path" != kernel ] && echo 1 >"$d/route"
		"$cyclictest" "$(rt_command "$svc" "$n" "$(path_arg "$path")")" >"$out/rt/$svc.$path" || exit 1
		echo 0 >"$d/route"
		[ "$svc" = set_variable_4k ] || cat "$d/bench" >"$out/rt/$svc.$path.bench"
	done
	if [ "$svc" = get_time_spin ]; then
		echo disarm >/sys/kernel/debug/efimm_hostile && rmmod efimm_hostile || exit 1
	fi
	counters >"$out/rt/$svc.counters"
done
echo 0 >"$d/watch_kernel_path"
echo "bench: real-time lateness pass done"

rmmod efimm
echo EFIMM-END >"$out/done"
