#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: host unit tests, then every kselftest in one VM boot per
# (firmware mode, boot options) pair. Ends with "N passed, N failed".
#
# RUNS="pflash-lowmap bios-lowmap" limits the boots. Default: both firmware
# modes with efi=lowmap (bios with kmemleak=on as well: its kmemleak test
# requires no leak), pflash with page-table isolation forced on, bios
# without efi=lowmap (efimm must refuse to load), plus pflash-reset, a boot
# that asks the firmware to power off through efimm, and one boot per
# firmware mode with efimm.mode=cpl3 that runs the tests comparing efimm
# with the kernel's path with the firmware at CPL3.

. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-pflash-lowmap bios-kmemleak pflash-pti bios-default pflash-reset pflash-cpl3 bios-cpl3}
# What the cpl3 boots run: every test that checks services against the
# kernel's path (route.sh runs the kernel's efivarfs kselftest routed).
CPL3_TESTS="efimm:services efimm:fuzz.sh efimm:route.sh efimm:concurrency.sh efimm:churn.sh"
OUT=${CHECK_OUT:-$EFIMM_TOP/out/check}
rm -rf "$OUT"
mkdir -p "$OUT"

total_pass=0
total_fail=0
add_counts() {
	local line
	line=$(tail -n 1 "$1")
	total_pass=$((total_pass + $(echo "$line" | awk '{print $2}')))
	total_fail=$((total_fail + $(echo "$line" | awk '{print $4}')))
}

stage "check: host unit tests"
"$EFIMM_TOP"/scripts/host-test.sh >"$OUT/host.log" 2>&1 || true
sed -n 's/^/  /p' "$OUT/host.log" | grep -E '  (PASS|FAIL)' || true
add_counts "$OUT/host.log"

ntests=$("$EFIMM_TOP"/scripts/selftests.sh count)

for run in $RUNS; do
	fw=${run%%-*}
	tests=
	case "${run#*-}" in
	lowmap) append="efi=lowmap" ;;
	kmemleak) append="efi=lowmap kmemleak=on" ;;
	pti) append="efi=lowmap pti=on" ;;
	default) append="" ;;
	cpl3)
		append="efi=lowmap efimm.mode=cpl3"
		tests=$CPL3_TESTS
		;;
	reset)
		stage "check: $run: booting ($fw firmware, efi=lowmap), ResetSystem(shutdown) through efimm"
		rc=0
		VM_REBOOT=1 VM_TIMEOUT=180 "$EFIMM_TOP"/scripts/vm.sh boot "$fw" "$OUT/$run" \
			"efi=lowmap" "$EFIMM_TOP/scripts/guest-reset.sh $OUT/$run" || rc=$?
		python3 "$EFIMM_TOP"/scripts/ktap.py judge-reset "$run" "$OUT/$run" \
			"$([ $rc -eq 124 ] && echo timeout || echo exited)" >"$OUT/$run/summary.txt" || true
		grep -v '^passed ' "$OUT/$run/summary.txt" || true
		add_counts "$OUT/$run/summary.txt"
		continue
		;;
	*) die "unknown run '$run'" ;;
	esac
	stage "check: $run: booting ($fw firmware${append:+, $append}), $([ -n "$tests" ] && echo "$tests" | wc -w || echo "$ntests") kselftests"
	"$EFIMM_TOP"/scripts/vm.sh boot "$fw" "$OUT/$run" "$append" \
		"$EFIMM_TOP/scripts/guest-tests.sh $OUT/$run $tests" || true
	python3 "$EFIMM_TOP"/scripts/ktap.py judge "$run" "$OUT/$run" \
		>"$OUT/$run/summary.txt" || true
	grep -v '^passed ' "$OUT/$run/summary.txt" || true
	add_counts "$OUT/$run/summary.txt"
done

stage "check: finished"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
