#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: host unit tests, then one VM boot per entry of
# selftests/boots.txt, each judged against its plan there (scripts/ktap.py).
# Ends with "N passed, N failed, N skipped" (skips and XFAILs are counted
# apart, and a boot that skips what its plan runs fails).
#
# RUNS="pflash-lowmap bios-default" limits the boots; VM_TIMEOUT (seconds)
# bounds each test boot: a boot past it is ended, QEMU and all, before the
# next one starts (scripts/bounded.py). Stopped (TERM, INT, HUP), it stops
# its current boot first.

. "$(dirname "$0")/lib.sh"

# The whole run is one function, which bash reads before it starts: an
# edit to this file while a check runs changes nothing under it.
main() {
	OUT=${CHECK_OUT:-$EFIMM_TOP/out/check}
	rm -rf "$OUT"
	mkdir -p "$OUT"
	# Twice the slowest boot seen on 2 cores with other VMs beside it
	# (pflash-pti, 901 s; 413 s for pflash-lowmap alone).
	export VM_TIMEOUT=${VM_TIMEOUT:-1800}

	total_pass=0
	total_fail=0
	total_skip=0
	# add_counts FILE: add a judge's "passed N failed N [skipped N ...]" line.
	add_counts() {
		local line
		line=$(tail -n 1 "$1")
		[[ "$line" =~ ^passed\ ([0-9]+)\ failed\ ([0-9]+)(\ skipped\ ([0-9]+))?(\ xfail\ ([0-9]+))?$ ]] || {
			echo "  FAIL: $1 ends without counts"
			total_fail=$((total_fail + 1))
			return
		}
		total_pass=$((total_pass + BASH_REMATCH[1]))
		total_fail=$((total_fail + BASH_REMATCH[2]))
		total_skip=$((total_skip + ${BASH_REMATCH[4]:-0} + ${BASH_REMATCH[6]:-0}))
	}

	stage "check: host unit tests"
	"$EFIMM_TOP"/scripts/host-test.sh >"$OUT/host.log" 2>&1 || true
	grep -E '^(FAIL|SKIP|XFAIL) ' "$OUT/host.log" | sed 's/^/  /' || true
	echo "  host: $(tail -n 1 "$OUT/host.log") (each test in $OUT/host.log)"
	add_counts "$OUT/host.log"

	# What the guests load and run, copied once per kernel: a build in this
	# checkout while the check runs (make, make selftests) changes nothing
	# under them.
	snapshot() {
		local kernel=$1 snap=$OUT/snapshot/$1 ko=$EFIMM_TOP/efimm.ko
		[ -d "$snap" ] && return
		[ "$kernel" = normal ] || ko=$EFIMM_CACHE/module-$kernel/efimm.ko
		mkdir -p "$snap"
		cp -a "$(EFIMM_KERNEL=$kernel "$EFIMM_TOP"/scripts/selftests.sh install-dir)" "$snap/kselftest"
		cp "$ko" "$snap/efimm.ko"
		eval "$(EFIMM_KERNEL=$kernel "$EFIMM_TOP"/scripts/kernel.sh env)"
		cp "$KBUILD_DIR/drivers/firmware/efi/test/efi_test.ko" "$snap/efi_test.ko"
	}
	use_snapshot() {
		local snap=$OUT/snapshot/$1
		export EFIMM_KERNEL=$1 EFIMM_KO=$snap/efimm.ko EFI_TEST_KO=$snap/efi_test.ko \
			EFIMM_KSFT_INSTALL=$snap/kselftest
	}
	snapshot normal
	use_snapshot normal

	others=$(pgrep -c qemu-system || true)
	[ "$others" -eq 0 ] || warn "$others QEMU processes already running: boots will be slower"

	# shellcheck disable=SC2086 # RUNS is a list of names.
	plan=$(python3 "$EFIMM_TOP"/scripts/plan.py list ${RUNS:-}) || die "selftests/boots.txt: no plan"
	# Every kernel's copy now, not when its first boot comes: make stress's
	# debug and RT boots start an hour or more after it.
	for kernel in $(cut -d'|' -f4 <<<"$plan" | sort -u); do
		snapshot "$kernel"
	done
	while IFS='|' read -r run fw kind kernel sizes append tests; do
		use_snapshot "$kernel"
		what="$fw firmware${append:+, $append}"
		[ "$kernel" = normal ] || what+=", the $kernel kernel"
		out=$OUT/$run
		if [ "$kind" = reset ]; then
			stage "check: $run: booting ($what), ResetSystem(shutdown) through efimm"
			VM_REBOOT=1 VM_TIMEOUT=300 stoppable "$EFIMM_TOP"/scripts/vm.sh boot "$fw" "$out" \
				"$append" "$EFIMM_TOP/scripts/guest-reset.sh $out" || true
		elif [ "$kind" = oops ]; then
			stage "check: $run: booting ($what), a stray jump in the firmware through efimm"
			VM_TIMEOUT=300 stoppable "$EFIMM_TOP"/scripts/vm.sh boot "$fw" "$out" \
				"$append" "$EFIMM_TOP/scripts/guest-oops.sh $out" || true
		elif [ "$kind" = rts-off ]; then
			stage "check: $run: booting ($what), a page fault in the firmware on the kernel's path"
			VM_TIMEOUT=300 stoppable "$EFIMM_TOP"/scripts/vm.sh boot "$fw" "$out" \
				"$append" "$EFIMM_TOP/scripts/guest-rts-off.sh $out" || true
		elif [ "$kind" = sysrq ]; then
			stage "check: $run: booting ($what), sysrq-b with efimm routing"
			VM_TIMEOUT=300 stoppable "$EFIMM_TOP"/scripts/vm.sh boot "$fw" "$out" \
				"$append" "$EFIMM_TOP/scripts/guest-sysrq.sh $out" || true
		elif [[ "$kind" = pstore* ]]; then
			# Two boots on one variable store: the panic, then the read.
			stage "check: $run: booting ($what), a panic with efimm routing, then again to read efi-pstore's record"
			VM_VARS=$out/OVMF_VARS_4M.fd VM_TIMEOUT=300 stoppable "$EFIMM_TOP"/scripts/vm.sh boot "$fw" \
				"$out" "$append" "$EFIMM_TOP/scripts/guest-pstore.sh $out panic" || true
			if grep -q '^PSTORE-REQUESTED' "$out/pstore.log" 2>/dev/null; then
				VM_VARS=$out/OVMF_VARS_4M.fd VM_TIMEOUT=300 stoppable "$EFIMM_TOP"/scripts/vm.sh boot \
					"$fw" "$out/read" "$append" "$EFIMM_TOP/scripts/guest-pstore.sh $out/read read" || true
			fi
		elif [ "$kind" = reboot ]; then
			stage "check: $run: booting ($what), sealed, then reboot(2)"
			VM_TIMEOUT=300 stoppable "$EFIMM_TOP"/scripts/vm.sh boot "$fw" "$out" \
				"$append" "$EFIMM_TOP/scripts/guest-reboot.sh $out" || true
		else
			stage "check: $run: booting ($what), $(wc -w <<<"$tests") kselftests${sizes:+, the test sizes of make $sizes}"
			VM_TEST_SIZES=$sizes stoppable "$EFIMM_TOP"/scripts/vm.sh boot "$fw" "$out" "$append" \
				"$EFIMM_TOP/scripts/guest-tests.sh $out $tests" || true
		fi
		python3 "$EFIMM_TOP"/scripts/ktap.py judge "$run" "$out" >"$out/summary.txt" || true
		grep -Ev '^(passed |  PASS )' "$out/summary.txt" || true
		add_counts "$out/summary.txt"
	done <<<"$plan"

	stage "check: finished"
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
	[ "$total_fail" -eq 0 ]
}

main "$@"
exit
