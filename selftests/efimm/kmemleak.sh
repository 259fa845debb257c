#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# After every other efimm test has loaded, used, faulted, routed and
# unloaded efimm, kmemleak finds nothing unreferenced. Runs in a boot with
# kmemleak=on (make check's bios-kmemleak run); the test runner clears
# the boot's own reports before the first test.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

KMEMLEAK=/sys/kernel/debug/kmemleak

test_no_leaks() {
	local leaks
	efimm_unload || return 1
	! grep -q '^efi_test ' /proc/modules || rmmod efi_test || return 1
	# Objects younger than 5 s are not reported: scan, wait, scan.
	echo scan >$KMEMLEAK && sleep 6 && echo scan >$KMEMLEAK || return 1
	leaks=$(grep -c '^unreferenced object' $KMEMLEAK)
	echo "# kmemleak: $leaks unreferenced objects"
	head -n 40 $KMEMLEAK | sed 's/^/# /'
	[ "$leaks" -eq 0 ]
}

require_lowmap
ktap_print_header
if ! grep -qw 'kmemleak=on' /proc/cmdline || [ ! -w $KMEMLEAK ]; then
	ktap_skip_all "kmemleak is off in this boot (kmemleak=on enables it)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 1
ktap_test_result "kmemleak reports nothing after all efimm tests" test_no_leaks
ktap_finished
