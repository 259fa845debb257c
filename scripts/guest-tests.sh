#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: every installed kselftest (scripts/selftests.sh),
# through the kernel's own run_kselftest.sh, lockdown last. Its KTAP goes
# to OUTDIR/results.ktap and the console, followed by the marker line
# "# EFIMM-END" once every test has finished; the kernel log to
# OUTDIR/dmesg.txt.
#
# Usage: guest-tests.sh OUTDIR [SUITE:TEST...]
#   With tests named (as in kselftest-list.txt), only those run.

out=$1
shift
# virtme-ng powers the guest off as soon as this script ends.
trap '' HUP
. "$EFIMM_TOP/scripts/guest-env.sh"
# Test sizes and timeouts from the host (scripts/vm.sh).
[ -f "$out/knobs.env" ] && . "$out/knobs.env"

# What this boot is, from the kernel's own reports, before any test runs.
"$EFIMM_TOP/scripts/guest-facts.sh" "$out/facts.txt"

# A kmemleak=on boot: report and forget what the boot itself leaked, so
# that what the tests leak stands alone.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi

# make stress runs the full counts: longer than the suites' settings.
override=()
[ -n "${EFIMM_TEST_TIMEOUT:-}" ] && override=(-o "$EFIMM_TEST_TIMEOUT")
run=$EFIMM_KSFT_INSTALL/run_kselftest.sh
# The runner writes the tests' output to /dev/stdout, which virtme-ng
# links to its console port: make it this script's stdout, the pipe below.
# The guest runs this script and powers off: nothing else needs the link.
ln -sfn /proc/self/fd/1 /dev/stdout
# The runner runs its collections in name order: lockdown, which locks the
# kernel down for the rest of the boot, gets a run of its own, after. A run
# that cannot start (a test it does not list) adds a result to no plan,
# which the host's judge reports.
LOCKDOWN=lockdown:lockdown.sh
run_tests() {
	local t sel=()
	for t; do
		sel+=(-t "$t")
	done
	# A session of its own, without the console as controlling terminal:
	# nothing a test does to its terminal or process group reaches this
	# script, which must go on to write the end marker.
	setsid -w "$run" "${override[@]}" -f "${sel[@]}" ||
		echo "not ok 1 selftests: runner: $* # could not run"
}
# TESTS...: every test named, or all of them; lockdown last.
run_all() {
	local t first=() last=()
	[ $# -gt 0 ] || set -- $("$run" -l)
	for t; do
		if [ "$t" = "$LOCKDOWN" ]; then
			last=("$t")
		else
			first+=("$t")
		fi
	done
	[ ${#first[@]} -eq 0 ] || run_tests "${first[@]}"
	[ ${#last[@]} -eq 0 ] || run_tests "${last[@]}"
}
# Each program's start and end, in guest seconds, for the boot's summary.
stamp() {
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"# selftests: "* | "ok "*" selftests: "* | "not ok "*" selftests: "*)
			printf '%(%s)T %s\n' -1 "$line" >>"$out/timing.txt" ;;
		esac
	done
}
run_all "$@" </dev/null 2>&1 | stamp | tee "$out/results.ktap"
dmesg >"$out/dmesg.txt"
echo "# EFIMM-END" | tee -a "$out/results.ktap"
sync
