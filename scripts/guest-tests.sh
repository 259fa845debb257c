#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: a small kselftest runner. Each argument is a test
# program; its suite is the folder it lives in, and that folder's `settings`
# may set `timeout=` (seconds, default 45, as in kselftest). Output is KTAP
# in OUTDIR/results.ktap, the test's own output indented as "# " lines, and
# ends with the marker line "# EFIMM-END" once every test has finished.
#
# Usage: guest-tests.sh OUTDIR TEST...

out=$1
shift
. "$EFIMM_TOP/scripts/guest-env.sh"
# Test sizes and timeouts from the host (scripts/vm.sh).
[ -f "$out/knobs.env" ] && . "$out/knobs.env"

ktap=$out/results.ktap
ksft_skip=4

exec 3>"$ktap"
emit() {
	echo "$*" >&3
	echo "$*"
}

# A kmemleak=on boot: report and forget what the boot itself leaked, so
# that what the tests leak stands alone.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo clear >/sys/kernel/debug/kmemleak
fi

emit "TAP version 13"
emit "1..$#"
n=0
for prog in "$@"; do
	n=$((n + 1))
	dir=$(dirname "$prog")
	name="$(basename "$dir"):$(basename "$prog")"
	timeout=45
	if [ -f "$dir/settings" ]; then
		t=$(sed -n 's/^timeout=//p' "$dir/settings")
		[ -n "$t" ] && timeout=$t
	fi
	# make stress runs the full counts: longer.
	timeout=${EFIMM_TEST_TIMEOUT:-$timeout}
	emit "# selftests: $name"
	rc=0
	t0=$(date +%s)
	(cd "$dir" && timeout -k 5 "$timeout" "./$(basename "$prog")") \
		</dev/null >"$out/test.out" 2>&1 || rc=$?
	echo "# took $(($(date +%s) - t0)) s" >>"$out/test.out"
	sed 's/^/# /' "$out/test.out" >&3
	sed 's/^/# /' "$out/test.out"
	case $rc in
	0) emit "ok $n $name" ;;
	"$ksft_skip") emit "ok $n $name # SKIP" ;;
	124) emit "not ok $n $name # TIMEOUT ${timeout}s" ;;
	*) emit "not ok $n $name # exit=$rc" ;;
	esac
done
rm -f "$out/test.out"
dmesg >"$out/dmesg.txt"
emit "# EFIMM-END"
exec 3>&-
sync
