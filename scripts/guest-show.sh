#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for `make run`: load efimm, show what it does, unload.
# Usage: guest-show.sh OUTDIR

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"

show() {
	echo "### $*"
	"$@" 2>&1
	echo
}

{
	show uname -r
	show cat /proc/cmdline
	show insmod "$EFIMM_KO"
	show dmesg --notime --level=err,warn,info -k | grep -E 'efi|efimm' | tail -n 20
	for f in /sys/kernel/debug/efimm/*; do
		[ -f "$f" ] && show cat "$f"
	done
	show rmmod efimm
	show dmesg --notime -k | tail -n 3
	echo EFIMM-END
} >"$out/show.log" 2>&1
