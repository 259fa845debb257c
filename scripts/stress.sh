#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make stress: make check's kselftests at full counts, in both firmware
# modes with efi=lowmap (bios with kmemleak=on), and the cpl3 agreement
# tests in pflash mode with efimm.mode=cpl3: 100,000 fuzzed efi_test
# ioctls per path, 20,000 random debugfs writes, 8 processes x 1,000 calls,
# 100 load/unload cycles and 100 routing switches, 500 routing switches
# under a statfs hammer, 100 routed loads with rmmod killed, and 100,000
# preemptible calls under RT threads and CPU hogs. Then the same tests
# again, cpl0 and cpl3, and the seal in -bios mode, on the debug kernel
# (kernel/config-debug: lockdep, KASAN, atomic-sleep, debug-objects and FPU
# checks), whose every report fails its boot; and on the PREEMPT_RT kernel
# (kernel/config-rt), booted with efi=runtime, cpl0 and cpl3. Any count can
# be overridden through the same variables. Ends with "N passed, N failed".

. "$(dirname "$0")/lib.sh"

export EFIMM_FUZZ_CASES=${EFIMM_FUZZ_CASES:-100000}
export EFIMM_BADINPUT_CASES=${EFIMM_BADINPUT_CASES:-20000}
export EFIMM_CONCURRENCY_PROCS=${EFIMM_CONCURRENCY_PROCS:-8}
export EFIMM_CONCURRENCY_CALLS=${EFIMM_CONCURRENCY_CALLS:-1000}
export EFIMM_CHURN_CYCLES=${EFIMM_CHURN_CYCLES:-100}
export EFIMM_CHURN_SWITCHES=${EFIMM_CHURN_SWITCHES:-100}
# OVMF's store takes ~2000 writes per boot: spread 800 over the churn.
export EFIMM_CHURN_PACE=${EFIMM_CHURN_PACE:-0.3}
export EFIMM_CHURN_WRITES=${EFIMM_CHURN_WRITES:-800}
export EFIMM_ROUTE_SWITCHES=${EFIMM_ROUTE_SWITCHES:-500}
export EFIMM_SOAK_CALLS=${EFIMM_SOAK_CALLS:-100000}
export EFIMM_SOAK_WRITES=${EFIMM_SOAK_WRITES:-200}
export EFIMM_SOAK_MONOTONIC=${EFIMM_SOAK_MONOTONIC:-200}
export EFIMM_ROUTE_CYCLES=${EFIMM_ROUTE_CYCLES:-100}
export EFIMM_TEST_TIMEOUT=${EFIMM_TEST_TIMEOUT:-5400}
export VM_TIMEOUT=${VM_TIMEOUT:-7200}
export CHECK_OUT=$EFIMM_TOP/out/stress

RUNS=${RUNS:-pflash-lowmap bios-kmemleak pflash-cpl3 debug-pflash debug-pflash-store debug-cpl3 debug-bios-seal rt-pflash rt-sysrq rt-cpl3} exec "$EFIMM_TOP"/scripts/check.sh
