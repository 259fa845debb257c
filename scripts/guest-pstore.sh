#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VMs of a pstore pair: two boots on one pflash variable
# store (scripts/check.sh); the host judges both (scripts/ktap.py judge).
#
#   guest-pstore.sh OUTDIR panic: efimm loaded and routing, a marker in
#   the kernel log, then a panic from this task (efimm_hostile), with no
#   firmware call in flight. At the panic efi-pstore writes the log
#   through the non-blocking QueryVariableInfo and SetVariable, which efimm
#   hands to the kernel's path (efimm_hostile logs their entry on QEMU's
#   debug console); sealed, the kernel's path refuses the query, and the
#   write stops there. Leaves OUTDIR/pstore.log.
#
#   guest-pstore.sh OUTDIR read: the next boot, without efimm: what
#   efi-pstore finds in the store. Leaves OUTDIR/pstore-read.log.
# Usage: guest-pstore.sh OUTDIR panic|read

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"

case "$2" in
panic)
	hostile=$EFIMM_KSFT_INSTALL/efimm/mmprobe/efimm_hostile.ko
	marker="efimm-pstore-$(cat /proc/sys/kernel/random/uuid)"
	# insmod does not read the kernel command line: efimm.mode=cpl3 (and
	# its default seal) must be passed on.
	params=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^efimm[.]\(\(mode\|seal\)=[a-z0-9]*\)$/\1/p')
	{
		backend=$(cat /sys/module/pstore/parameters/backend)
		[ "$backend" = efi_pstore ] ||
			{ echo "PSTORE-NOT-REQUESTED: pstore's backend is '$backend'"; exit 1; }
		# shellcheck disable=SC2086 # params is a list of parameters.
		insmod "$EFIMM_KO" route=1 $params ||
			{ echo "PSTORE-NOT-REQUESTED: insmod efimm failed"; exit 1; }
		[ "$(cat /sys/kernel/debug/efimm/route)" = 1 ] ||
			{ echo "PSTORE-NOT-REQUESTED: efimm does not route"; exit 1; }
		insmod "$hostile" watch_kernel=1 ||
			{ echo "PSTORE-NOT-REQUESTED: insmod efimm_hostile failed"; exit 1; }
		echo "PSTORE-REQUESTED $marker"
	} >"$out/pstore.log" 2>&1
	echo "efimm-test: $marker" >/dev/kmsg
	sync
	echo panic >/sys/kernel/debug/efimm_kernel_nb
	# Only reached if the kernel did not panic.
	echo "PSTORE-RETURNED: $?" >>"$out/pstore.log"
	sync
	;;
read)
	{
		mountpoint -q /sys/fs/pstore || mount -t pstore pstore /sys/fs/pstore
		ls /sys/fs/pstore
		for f in /sys/fs/pstore/dmesg-efi_pstore-*; do
			[ -f "$f" ] || continue
			echo "PSTORE-RECORD $f"
			cat "$f"
		done
		echo "PSTORE-READ-END"
	} >"$out/pstore-read.log" 2>&1
	sync
	;;
*)
	echo "usage: $0 OUTDIR panic|read" >&2
	exit 2
	;;
esac
