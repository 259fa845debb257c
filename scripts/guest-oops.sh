#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM of an oops=panic boot: the real firmware's GetTime,
# rewritten from outside efimm (efimm_hostile's "arm stray") into a jump
# to address 0, called once through efimm at CPL0. Address 0 is neither
# the firmware's runtime memory, nor efimm's own page, nor the entry it
# called: efimm must not contain it, and the kernel oopses as its own
# path does for a fault below 4K. Leaves OUTDIR/oops.log; the host checks the kernel log
# (scripts/ktap.py judge).
# Usage: guest-oops.sh OUTDIR

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"

hostile=$EFIMM_KSFT_INSTALL/efimm/mmprobe/efimm_hostile.ko
{
	insmod "$EFIMM_KO" route=0 || { echo "OOPS-NOT-REQUESTED: insmod efimm failed"; exit 1; }
	insmod "$hostile" && echo "arm stray" >/sys/kernel/debug/efimm_hostile ||
		{ echo "OOPS-NOT-REQUESTED: cannot arm efimm_hostile"; exit 1; }
	echo "OOPS-REQUESTED"
} >"$out/oops.log" 2>&1
sync
echo "efimm-test: GetTime now jumps to 0" >/dev/kmsg
echo "get_time 1 efimm" >/sys/kernel/debug/efimm/bench 2>>"$out/oops.log"
# Only reached if the kernel survived: efimm contained the jump.
{
	echo "OOPS-RETURNED: $?"
	cat /sys/kernel/debug/efimm/fault
	echo disarm >/sys/kernel/debug/efimm_hostile
} >>"$out/oops.log" 2>&1
sync
