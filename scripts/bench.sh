#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: one VM boot per firmware mode, and one in pflash mode on the
# PREEMPT_RT kernel (RUNS), every measured service through efimm and
# through the kernel's own path, interleaved in blocks, and one more with
# the firmware at CPL3 (mode=cpl3) with a fresh variable store; then a
# table, bench/results.json and bench/results.png.
#
# Counts are sized to OVMF: GetNextHighMonotonicCount and SetVariable write
# the variable store on every call (slowly in pflash mode, and in -bios mode
# the RAM store fills after a few hundred writes).

. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-pflash bios pflash-rt}
OUT=$EFIMM_TOP/out/bench
RESULTS=$EFIMM_TOP/bench
export BENCH_BLOCKS=10

specs_for() {
	local writes
	case "$1" in
	pflash) writes=400 ;;
	bios) writes=100 ;;
	esac
	echo "null:2000 get_time:2000 get_variable:2000 get_next_variable:2000" \
		"query_variable_info:2000 get_next_high_mono_count:$writes set_variable:$writes"
}

# The real-time pass: the two services that write the variable store, for
# a few seconds per path, and as long at idle. In pflash mode SetVariable
# writes a 4 KiB variable through efivarfs (8 writes and deletes per path:
# the store cannot be reclaimed at runtime); -bios mode keeps its store in
# RAM, where no write holds a CPU for long. The spin call, efimm's own
# function that keeps its CPU busy for a while, shows a long call without
# QEMU's flash emulation, which stalls the whole VM while it writes;
# get_time_spin the same through both paths, in the real firmware's
# GetTime, rewritten into a 250 ms loop.
rt_specs_for() {
	case "$1" in
	pflash) echo "spin:20 get_time_spin:8 set_variable_4k:8 get_next_high_mono_count:100" ;;
	bios) echo "spin:20 get_time_spin:8 set_variable:50 get_next_high_mono_count:50" ;;
	esac
}
export BENCH_RT_IDLE_S=3

# run_env RUN: the settings of a run: RUN is a firmware mode, with -rt for
# the PREEMPT_RT kernel (make rt), booted with efi=runtime as RT kernels
# leave runtime services off otherwise.
run_env() {
	local fw=${1%-rt}
	if [ "$1" = "$fw" ]; then
		echo "EFIMM_KERNEL=normal EFIMM_KO=$EFIMM_TOP/efimm.ko" \
			"EFIMM_KSFT_INSTALL=$EFIMM_CACHE/kselftest/install APPEND=efi=lowmap FW=$fw"
	else
		echo "EFIMM_KERNEL=rt EFIMM_KO=$EFIMM_CACHE/module-rt/efimm.ko" \
			"EFIMM_KSFT_INSTALL=$EFIMM_CACHE/kselftest-rt/install" \
			"APPEND='efi=runtime efi=lowmap' FW=$fw"
	fi
}

rm -rf "$OUT"
mkdir -p "$OUT" "$RESULTS"
for run in $RUNS; do
	eval "$(run_env "$run")"
	export EFIMM_KERNEL EFIMM_KO EFIMM_KSFT_INSTALL
	stage "bench: $run: booting ($APPEND, the $EFIMM_KERNEL kernel), $(specs_for "$FW")"
	BENCH_SPECS=$(specs_for "$FW") VM_TIMEOUT=1200 \
		"$EFIMM_TOP"/scripts/vm.sh boot "$FW" "$OUT/$run" "$APPEND" \
		"BENCH_BLOCKS=$BENCH_BLOCKS BENCH_SPECS='$(specs_for "$FW")'" \
		"BENCH_RT_SPECS='$(rt_specs_for "$FW")' BENCH_RT_IDLE_S=$BENCH_RT_IDLE_S" \
		"$EFIMM_TOP/scripts/guest-bench.sh $OUT/$run" || true
	[ -f "$OUT/$run/done" ] ||
		die "the $run bench did not finish; console: $OUT/$run/console.log"
	stage "bench: $run: booting ($APPEND), the same with the firmware at CPL3"
	cpl3=$OUT/$run-cpl3
	VM_TIMEOUT=1200 "$EFIMM_TOP"/scripts/vm.sh boot "$FW" "$cpl3" "$APPEND" \
		"BENCH_CPL3=1 BENCH_BLOCKS=$BENCH_BLOCKS BENCH_SPECS='$(specs_for "$FW")'" \
		"BENCH_RT_SPECS='$(rt_specs_for "$FW")' BENCH_RT_IDLE_S=$BENCH_RT_IDLE_S" \
		"$EFIMM_TOP/scripts/guest-bench.sh $cpl3" || true
	[ -f "$cpl3/done" ] ||
		die "the $run cpl3 bench did not finish; console: $cpl3/console.log"
	# One run's results: the cpl3 path's files beside the others.
	cp "$cpl3"/raw/* "$OUT/$run/raw/"
	cat "$cpl3/counters.txt" >>"$OUT/$run/counters.txt"
	for f in "$cpl3"/rt/*; do
		case "$f" in
		*/idle) ;;
		*.counters) cat "$f" >>"$OUT/$run/rt/${f##*/}" ;;
		*) cp "$f" "$OUT/$run/rt/" ;;
		esac
	done
done
stage "bench: report"
"$VENV"/bin/python3 "$EFIMM_TOP"/scripts/bench_report.py "$OUT" "$RESULTS" $RUNS
stage "bench: done"
