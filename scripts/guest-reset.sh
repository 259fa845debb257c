#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: ResetSystem(shutdown) through efimm must power the
# machine off. Leaves OUTDIR/reset.log; the host checks that QEMU exited
# without a second boot (scripts/ktap.py judge-reset).
# Usage: guest-reset.sh OUTDIR

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"

{
	insmod "$EFIMM_KO" || { echo "RESET-NOT-REQUESTED: insmod failed"; exit 1; }
	echo "RESET-REQUESTED"
} >"$out/reset.log" 2>&1
sync
echo shutdown >/sys/kernel/debug/efimm/reset
# Only reached if the firmware returned.
echo "RESET-RETURNED: $?" >>"$out/reset.log"
dmesg | tail -n 5 >>"$out/reset.log"
sync
