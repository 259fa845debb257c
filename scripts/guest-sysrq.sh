#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM of a sysrq boot (reboot=efi): efimm loaded and
# routing, then an emergency restart, sysrq-b. The kernel reaches
# efi_reboot() inside the RCU read-side section of sysrq's handler, where
# the caller must not wait for efimm's thread: efimm must hand the reset to
# the kernel's path, whose ResetSystem resets the machine. Leaves
# OUTDIR/sysrq.log; the host checks how QEMU ended (scripts/ktap.py judge).
# Usage: guest-sysrq.sh OUTDIR

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"

# efimm_hostile's probe on the kernel's ResetSystem logs its entry on QEMU's
# debug console, which survives the reset.
hostile=$EFIMM_KSFT_INSTALL/efimm/mmprobe/efimm_hostile.ko
{
	insmod "$EFIMM_KO" route=1 || { echo "SYSRQ-NOT-REQUESTED: insmod efimm failed"; exit 1; }
	[ "$(cat /sys/kernel/debug/efimm/route)" = 1 ] ||
		{ echo "SYSRQ-NOT-REQUESTED: efimm does not route"; exit 1; }
	insmod "$hostile" watch_kernel=1 || { echo "SYSRQ-NOT-REQUESTED: insmod efimm_hostile failed"; exit 1; }
	echo "SYSRQ-REQUESTED"
} >"$out/sysrq.log" 2>&1
sync
echo "efimm-test: sysrq-b with efimm routing" >/dev/kmsg
echo b >/proc/sysrq-trigger
# Only reached if the kernel did not restart.
echo "SYSRQ-RETURNED: $?" >>"$out/sysrq.log"
sync
