#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM of a sealed boot (efimm.mode=cpl3, reboot=efi): load
# efimm at CPL3, routed, which seals runtime services off from kernel
# mode, then restart the machine with reboot(2), at once. The kernel's EFI
# reset comes first (reboot=efi), through efimm's routing, with interrupts
# off: efimm hands it to the kernel's path, which must refuse it, sealed,
# and the kernel restarts the machine its next way; the second boot powers
# off. Leaves OUTDIR/reboot.log; the host checks the kernel log, the two
# boots and that QEMU ended on the second one's power-off (scripts/ktap.py
# judge).
# Usage: guest-reboot.sh OUTDIR

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"

# The second boot: the kernel restarted the machine without the firmware's
# ResetSystem (after EFI, reboot=efi falls back to the BIOS reset vector,
# which QEMU's -no-reboot does not see). Say so, and power off.
if grep -q REBOOT-REQUESTED "$out/reboot.log" 2>/dev/null; then
	echo "REBOOTED" >>"$out/reboot.log"
	sync
	poweroff -f -f
	exit 0
fi
params=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^efimm[.]\(mode=[a-z0-9]*\)$/\1/p')

{
	insmod "$EFIMM_KO" route=1 $params || { echo "REBOOT-NOT-REQUESTED: insmod failed"; exit 1; }
	grep -qx 'sealed 1' /sys/kernel/debug/efimm/mode ||
		{ echo "REBOOT-NOT-REQUESTED: not sealed"; exit 1; }
	echo "REBOOT-REQUESTED"
} >"$out/reboot.log" 2>&1
sync
# reboot(2) itself, not through init.
reboot -f -f 2>>"$out/reboot.log"
# Only reached if the machine did not restart.
echo "REBOOT-RETURNED: $?" >>"$out/reboot.log"
sync
