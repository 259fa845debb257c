#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the cached kernel under OVMF with virtme-ng (TCG) and run a command.
#
# Usage:
#   vm.sh boot FW OUTDIR APPEND GUEST_CMD...
#       FW is "pflash" (OVMF_CODE_4M read-only + a fresh OVMF_VARS_4M copy,
#       which adds an MMIO runtime region) or "bios" (-bios OVMF.fd,
#       variables in RAM). VM_VARS=FILE: pflash's variable store is FILE,
#       made from OVMF_VARS_4M only if it does not exist yet, so that a
#       second boot sees what the first wrote. The console goes to
#       OUTDIR/console.log; OUTDIR is shared read-write with the guest.
#   vm.sh run FW
#       make run: boot, load efimm, show what it does, unload.
#
# vng's exit status is not reliable under OVMF, so callers judge a run from
# the files the guest leaves in OUTDIR, never from the status of this script.

. "$(dirname "$0")/lib.sh"
eval "$("$EFIMM_TOP"/scripts/kernel.sh env)"

VM_TIMEOUT=${VM_TIMEOUT:-900}
VNG=$VENV/bin/vng
# vng runs its helpers (virtme-run, ...) from PATH.
export PATH=$VENV/bin:$PATH

firmware_opts() {
	local fw=$1 out=$2
	case "$fw" in
	bios)
		echo "-bios /usr/share/ovmf/OVMF.fd"
		;;
	pflash)
		local vars=${VM_VARS:-$out/OVMF_VARS_4M.fd}
		[ -n "${VM_VARS:-}" ] && [ -f "$vars" ] ||
			cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
		echo "-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd" \
			"-drive if=pflash,format=raw,unit=1,file=$vars"
		;;
	*)
		die "unknown firmware mode '$fw' (pflash or bios)"
		;;
	esac
}

# boot FW OUTDIR APPEND CMD...: returns vng's status, which callers ignore,
# or 124 if the boot ran past VM_TIMEOUT seconds; OUTDIR/boot-time.txt
# records its wall time and limit.
boot() {
	local fw=$1 out=$2 append=$3
	shift 3
	local image=$KBUILD_DIR/arch/x86/boot/bzImage qopts reboot=-no-reboot
	[ -f "$image" ] || die "no kernel at $image: run 'make kernel' first"
	mkdir -p "$out"
	# QEMU says on the console what ended the machine (the reset judge).
	# Its debug console (port 0xe9) goes to OUTDIR/debugcon.log, written at
	# once: what a test module logs there survives a reset that cuts the
	# serial console short.
	qopts="$(firmware_opts "$fw" "$out") -trace qemu_system_shutdown_request"
	qopts+=" -chardev file,id=efimmdbg,path=$out/debugcon.log -device isa-debugcon,iobase=0xe9,chardev=efimmdbg"
	# log_buf_len: the boot's messages, which tests read, must survive
	# make stress's thousands of routing switches and reloads.
	# VM_REBOOT=1: let a reset reboot the guest (to tell it from power-off).
	[ "${VM_REBOOT:-0}" = 1 ] && reboot=
	# Test sizes and timeouts (make stress) go to the guest's tests through
	# OUTDIR: the kernel command line that carries the command is short.
	# VM_TEST_SIZES=check: the tests' own sizes, make check's, but the
	# run's timeout still: the debug kernel runs them several times slower.
	sizes='FUZZ|CONCURRENCY|CHURN|BADINPUT|ROUTE|SOAK|'
	[ "${VM_TEST_SIZES:-}" = check ] && sizes=
	env | grep -E "^EFIMM_(${sizes}TEST)_[A-Z_]+=[0-9.]+\$" |
		sed 's/^/export /' >"$out/knobs.env" || true
	# The guest sees the host's root read-only, so it runs the checkout's
	# scripts directly; OUTDIR is the one place it writes. The command goes
	# through a file there: vng passes --exec on the kernel command line,
	# which the EFI stub truncates past ~2 KiB, and a list of tests under a
	# long checkout path is longer than that.
	# The modules and tests the guest loads: make check hands it a copy
	# (scripts/check.sh), so that a build during the run changes nothing.
	printf 'export EFIMM_TOP=%q EFIMM_CACHE=%q EFIMM_KBUILD=%q EFIMM_FW=%q\n' \
		"$EFIMM_TOP" "$EFIMM_CACHE" "$KBUILD_DIR" "$fw" >"$out/guest-cmd.sh"
	printf 'export EFIMM_KO=%q EFI_TEST_KO=%q EFIMM_KSFT_INSTALL=%q\n' \
		"${EFIMM_KO:-$EFIMM_TOP/efimm.ko}" \
		"${EFI_TEST_KO:-$KBUILD_DIR/drivers/firmware/efi/test/efi_test.ko}" \
		"${EFIMM_KSFT_INSTALL:-$EFIMM_CACHE/kselftest/install}" >>"$out/guest-cmd.sh"
	echo "$*" >>"$out/guest-cmd.sh"
	# No process of the boot (vng, QEMU, virtiofsd) outlives its limit,
	# nor the boot: the next one must have the CPUs to itself. Nor this
	# script: stopped, it stops the runner, which ends them all.
	stoppable python3 "$EFIMM_TOP"/scripts/bounded.py --record "$out/boot-time.txt" "$VM_TIMEOUT" \
		"$VNG" --run "$image" --disable-kvm --disable-microvm --force-9p \
		--user root -m 1G -p 2 --verbose \
		--append "root=/dev/root panic=-1 log_buf_len=4M $append" \
		--rwdir="$out" --qemu-opts="$qopts $reboot" \
		--exec "bash $out/guest-cmd.sh" </dev/null >"$out/console.log" 2>&1
}

make_run() {
	local fw=$1 mode=${2:-cpl0} out=$EFIMM_TOP/out/run-$1 rc=0 append=efi=lowmap
	rm -rf "$out"
	case "$mode" in
	cpl0) ;;
	cpl3) append="$append efimm.mode=cpl3" ;;
	*) die "MODE=$mode: must be cpl0 or cpl3" ;;
	esac
	stage "vm: booting under OVMF ($fw mode, firmware at $mode, TCG: ~1 min)"
	boot "$fw" "$out" "$append" \
		"$EFIMM_TOP/scripts/guest-show.sh $out" || rc=$?
	if [ ! -f "$out/show.log" ]; then
		tail -n 30 "$out/console.log" >&2
		die "the guest did not run (vng status $rc); console: $out/console.log"
	fi
	cat "$out/show.log"
	grep -q '^EFIMM-END$' "$out/show.log" ||
		die "the guest stopped early; console: $out/console.log"
	stage "vm: done"
}

case "${1:-}" in
boot)
	shift
	boot "$@"
	;;
run)
	make_run "${2:-pflash}" "${3:-cpl0}"
	;;
*)
	die "usage: $0 boot FW OUTDIR APPEND CMD... | run FW [cpl0|cpl3]"
	;;
esac
