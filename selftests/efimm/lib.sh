# SPDX-License-Identifier: GPL-2.0
# Helpers for the efimm kselftests. Source after ktap_helpers.sh.

EFIMM_DEBUGFS=/sys/kernel/debug/efimm

lowmap_booted() {
	grep -qw 'efi=lowmap' /proc/cmdline
}

efimm_loaded() {
	grep -q '^efimm ' /proc/modules
}

# The mode a boot's efimm.mode=MODE names on the kernel command line (the
# cpl3 boots of make check), and its efimm.seal=N, as module parameters;
# nothing by default (insmod reads no kernel command line).
efimm_boot_mode() {
	tr ' ' '\n' </proc/cmdline | sed -n 's/^efimm[.]\(mode=[a-z0-9]*\)$/\1/p; s/^efimm[.]\(seal=[01]\)$/\1/p' |
		tr '\n' ' '
}

# efimm_load [PARAM...]: with the boot's parameters (efimm_boot_mode)
# that no PARAM names.
efimm_load() {
	local p boot=()
	for p in $(efimm_boot_mode); do
		case " $* " in
		*" ${p%%=*}="*) ;;
		*) boot+=("$p") ;;
		esac
	done
	efimm_loaded || insmod "$EFIMM_KO" "${boot[@]}" "$@"
}

# A debugfs file open keeps efimm loaded: give callers in flight 5 s to
# close theirs.
efimm_unload() {
	local i
	for i in $(seq 50); do
		efimm_loaded || return 0
		rmmod efimm 2>/dev/null && return 0
		sleep 0.1
	done
	rmmod efimm
}

efi_test_load() {
	grep -q '^efi_test ' /proc/modules || insmod "$EFI_TEST_KO"
}

# counter KEY: one value of the counters file (0 if absent).
# bench_value KEY: a value of the last bench run's report.
bench_value() {
	awk -v k="$1" '$1 == k { print $2 }' "$EFIMM_DEBUGFS/bench"
}

counter() {
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' \
		"$EFIMM_DEBUGFS/counters"
}

# fault_field KEY: the rest of KEY's line in the fault file.
fault_field() {
	awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$EFIMM_DEBUGFS/fault"
}

# mode_field KEY: a value of the mode file (the cpl3 port I/O counts).
mode_field() {
	awk -v k="$1" '$1 == k { print $2 }' "$EFIMM_DEBUGFS/mode"
}

# The tasks named efimm that are not kernel threads (PF_KTHREAD in the
# flags of /proc/PID/stat), by PID: the cpl3 firmware's.
firmware_tasks() {
	local pid pids=()
	for pid in $(pgrep -x efimm); do
		(($(awk '{ print $9 }' "/proc/$pid/stat" 2>/dev/null || echo 2097152) & 0x200000)) ||
			pids+=("$pid")
	done
	echo "${pids[*]}"
}

# summary KEY: one value of page_tables_summary.
summary() {
	awk -v k="$1" '$1 == k { print $2 }' "$EFIMM_DEBUGFS/page_tables_summary"
}

# Skip the whole test unless efimm can load here.
require_lowmap() {
	if ! lowmap_booted; then
		ktap_print_header
		ktap_skip_all "efimm needs a kernel booted with efi=lowmap"
		exit "$KSFT_SKIP"
	fi
}

# dmesg_mark, then dmesg_new: the kernel log lines since the mark. The log
# is never cleared: other tests read the boot messages.
dmesg_mark() {
	DMESG_MARK=$(dmesg | wc -l)
}

dmesg_new() {
	dmesg | tail -n +$((DMESG_MARK + 1))
}

# as_nobody CMD...: run CMD as an unprivileged user.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"
}

# switch_refuses_bad_writes FILE VALUE: efimm's 0/1 switch FILE refuses
# every other write and still reads VALUE.
switch_refuses_bad_writes() {
	local w bad=0
	for w in 2 -1 yes "1 1" 0x1 " "; do
		if printf '%s' "$w" >"$EFIMM_DEBUGFS/$1" 2>/dev/null; then
			echo "# $1 accepted '$w'"
			bad=1
		fi
	done
	[ $bad -eq 0 ] && [ "$(cat "$EFIMM_DEBUGFS/$1")" = "$2" ]
}
