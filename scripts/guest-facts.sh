#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM before a boot's tests: what the boot really is, read
# from what the kernel reports rather than from efimm, one "key value" line
# each, for the host's judge to hold against the boot's plan
# (selftests/boots.txt, scripts/ktap.py). Leaves efimm unloaded.
#
# Usage: guest-facts.sh OUTFILE

out=$1
. "$EFIMM_TOP/scripts/guest-env.sh"
# Routed reads of one variable that tell the modes apart (below).
READS=40

fact() {
	printf '%s %s\n' "$1" "$2"
}

# efi=lowmap as the kernel applied it: every runtime-map entry 1:1.
identity_map() {
	local d n=0 same=0
	for d in /sys/firmware/efi/runtime-map/*/; do
		[ -r "$d/virt_addr" ] || continue
		n=$((n + 1))
		[ "$(cat "$d/virt_addr")" = "$(cat "$d/phys_addr")" ] && same=$((same + 1))
	done
	if [ "$n" -eq 0 ]; then
		echo absent
	elif [ "$same" -eq "$n" ]; then
		echo yes
	else
		echo "no ($same of $n)"
	fi
}

# Tasks the kernel created since boot (/proc/stat's "processes"), which
# counts every fork whoever makes it, into FORKS, with builtins only.
read_forks() {
	local key value rest
	while read -r key value rest; do
		[ "$key" = processes ] && { FORKS=$value; return; }
	done </proc/stat
}

# Every runtime code region (type 5) of the runtime map, as "start end"
# into CODE_RANGES: where efi=lowmap maps it, 1:1.
read_code_ranges() {
	local d type addr pages
	CODE_RANGES=()
	for d in /sys/firmware/efi/runtime-map/*/; do
		read -r type <"$d/type" && read -r addr <"$d/phys_addr" &&
			read -r pages <"$d/num_pages" || continue
		[ "$((type))" -eq 5 ] && CODE_RANGES+=("$((addr)) $((addr + pages * 4096))")
	done
}

# The processes whose maps, as the kernel shows them, have a VMA inside
# runtime code, into CODE_PIDS, with builtins only: at CPL3 the firmware's
# task; at CPL0 none (no kernel thread's mm is shown).
read_code_pids() {
	local f start end rest r pid
	CODE_PIDS=()
	for f in /proc/[0-9]*/maps; do
		pid=${f#/proc/}
		while IFS=' -' read -r start end rest; do
			for r in "${CODE_RANGES[@]}"; do
				if [ "$((16#$start))" -ge "${r% *}" ] && [ "$((16#$start))" -lt "${r#* }" ]; then
					CODE_PIDS+=("${pid%/maps}")
					break 2
				fi
			done
		done 2>/dev/null <"$f"
	done
}

# Where the firmware runs, seen from the kernel, over READS routed reads of
# a variable (builtins only: no fork of ours): the tasks created meanwhile
# (none per call in either mode), and the processes mapping runtime code
# halfway through and at the end (at CPL3 one, the same: the firmware's
# task lives across calls; at CPL0 none).
firmware_tasks() {
	local var before i junk errors=0 half
	var=$(find /sys/firmware/efi/efivars -maxdepth 1 -type f -name 'Boot*' | head -n 1)
	[ -n "$var" ] || var=$(find /sys/firmware/efi/efivars -maxdepth 1 -type f | head -n 1)
	[ -n "$var" ] || { fact firmware_forks "none: no variable to read"; return; }
	read_code_ranges
	fact runtime_code_regions "${#CODE_RANGES[@]}"
	read_forks
	before=$FORKS
	for ((i = 0; i < READS; i++)); do
		# read returns 1 at the end of the data, >1 on an error.
		IFS= read -r -d '' -n 64 junk 2>/dev/null <"$var"
		[ $? -le 1 ] || errors=$((errors + 1))
		if [ "$i" -eq $((READS / 2)) ]; then
			read_code_pids
			half="${CODE_PIDS[*]}"
		fi
	done
	read_code_pids
	read_forks
	fact firmware_forks $((FORKS - before))
	fact firmware_read_errors "$errors"
	fact firmware_code_pids_half "${half:-none}"
	fact firmware_code_pids "${CODE_PIDS[*]:-none}"
}

mountpoint -q /sys/kernel/security || mount -t securityfs none /sys/kernel/security 2>/dev/null

{
	fact cmdline "$(cat /proc/cmdline)"
	fact cpus "$(nproc)"
	# The CPU flag: the meltdown file says "Not affected" when PTI is
	# forced on a CPU without the bug, as TCG's is.
	if grep -qw pti /proc/cpuinfo; then fact pti on; else fact pti off; fi
	fact runtime_map_identity "$(identity_map)"
	# Any command but "clear" fails with EPERM while kmemleak is off;
	# "stack=on" is its default.
	if echo stack=on 2>/dev/null >/sys/kernel/debug/kmemleak; then
		fact kmemleak on
	else
		fact kmemleak off
	fi
	fact lockdown "$(cat /sys/kernel/security/lockdown 2>/dev/null || echo absent)"
	# The debug kernel's checks, as the kernel reports them: lockdep's
	# debug_locks (0 once a report turned it off), KASAN's banner.
	debug_locks=$(awk '$1 == "debug_locks:" { print $2 }' /proc/lockdep_stats 2>/dev/null)
	fact debug_locks "${debug_locks:-absent}"
	fact kasan "$(dmesg | grep -c 'KernelAddressSanitizer initialized')"
	# A PREEMPT_RT kernel says so in its version (init/Makefile).
	if uname -v | grep -qw PREEMPT_RT; then fact realtime 1; else fact realtime 0; fi
	mode=$(tr ' ' '\n' </proc/cmdline |
		sed -n 's/^efimm[.]\(mode=[a-z0-9]*\)$/\1/p; s/^efimm[.]\(seal=[01]\)$/\1/p' | tr '\n' ' ')
	if err=$(insmod "$EFIMM_KO" route=1 $mode 2>&1); then
		fact efimm_load ok
		fact efimm_mode "$(head -n 1 /sys/kernel/debug/efimm/mode)"
		fact inject_fault "$([ -e /sys/kernel/debug/efimm/inject_fault ] && echo yes || echo no)"
		fact firmware_reads "$READS"
		firmware_tasks
		rmmod efimm || fact efimm_unload failed
		# The kernel's own word that a cpl3 call sealed its path.
		fact sealed "$(dmesg | grep -c 'efi: runtime services sealed')"
	else
		fact efimm_load "refused: $err"
	fi
} >"$out" 2>&1
