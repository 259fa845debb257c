#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM of an rts-off boot: the real firmware's GetTime,
# rewritten from outside efimm (efimm_hostile's "arm pf") into a load
# from an unmapped address above 4K, called once by the kernel's own path
# (efimm loaded, not routing). The kernel answers a page fault in the
# firmware by disabling runtime services and freezing efi_rts_wq; efimm
# must then refuse its own calls without entering the firmware, whose
# GetTime stays armed: a call through efimm would fault again, and efimm
# would log the fault. Leaves OUTDIR/rts-off.log; the host checks the
# kernel log (scripts/ktap.py judge).
# Usage: guest-rts-off.sh OUTDIR

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"

hostile=$EFIMM_KSFT_INSTALL/efimm/mmprobe/efimm_hostile.ko
# efimm's GetTime calls (the counters leave out a zero).
calls() {
	awk '$1 == "efimm.get_time.calls" { n = $2 } END { print n + 0 }' \
		/sys/kernel/debug/efimm/counters
}
{
	insmod "$EFIMM_KO" route=0 || { echo "RTS-OFF-NOT-REQUESTED: insmod efimm failed"; exit 1; }
	insmod "$hostile" && echo "arm pf" >/sys/kernel/debug/efimm_hostile ||
		{ echo "RTS-OFF-NOT-REQUESTED: cannot arm efimm_hostile"; exit 1; }
	echo "RTS-OFF-REQUESTED"
	echo "efimm-test: the firmware's GetTime now faults" >/dev/kmsg
	echo "KERNEL-GET-TIME $(cat /sys/kernel/debug/efimm_kernel_get_time)"
	before=$(calls)
	if echo "get_time 1 efimm" >/sys/kernel/debug/efimm/bench; then
		echo "EFIMM-GET-TIME: accepted"
	else
		echo "EFIMM-GET-TIME: refused"
	fi
	echo "EFIMM-CALLS $before $(calls)"
	echo disarm >/sys/kernel/debug/efimm_hostile && rmmod efimm_hostile &&
		rmmod efimm && echo "RTS-OFF-UNLOADED"
} >"$out/rts-off.log" 2>&1
sync
