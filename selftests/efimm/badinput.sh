#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Garbage into every writable debugfs file: crafted malformed commands get
# EINVAL-style errors, seeded random bytes never hurt the kernel (the runner
# fails the run on any WARN or oops), and efimm still works afterwards.

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
. "$(dirname "$0")/lib.sh"

SEED=${EFIMM_BADINPUT_SEED:-4242}
CASES=${EFIMM_BADINPUT_CASES:-200}
# inject_fault only gets the crafted cases: a random "nx" would fault.
FILES="bench route counters reset fault watch_kernel_path"

# write_fails FILE TEXT: the write is refused.
write_fails() {
	! printf '%s' "$2" >"$EFIMM_DEBUGFS/$1" 2>/dev/null
}

test_crafted() {
	local bad=0 f w
	while IFS='|' read -r f w; do
		if ! write_fails "$f" "$w"; then
			echo "# $f accepted '$w'"
			bad=1
		fi
	done <<'CASES'
counters|1
counters|00
counters|reset
route|01
route|true
reset|reboot
reset|shutdown now
reset|COLD
bench|get_time -5 efimm
bench|get_time 18446744073709551617 efimm
bench|get_time 1 EFIMM
bench|GET_TIME 1 efimm
bench|get_time	1	efimm	x
bench|null 1 kernel
fault|re-arm
fault|1
watch_kernel_path|2
watch_kernel_path|on
CASES
	if [ -e "$EFIMM_DEBUGFS/inject_fault" ]; then
		for w in NX nx1 "unmapped 0" 0; do
			write_fails inject_fault "$w" || { echo "# inject_fault accepted '$w'"; bad=1; }
		done
		[ "$(cat "$EFIMM_DEBUGFS/inject_fault")" = none ] || bad=1
	fi
	for f in $FILES; do
		write_fails "$f" "$(head -c 100 /dev/zero | tr '\0' 'a')" || { echo "# $f accepted 100 bytes"; bad=1; }
		write_fails "$f" "$(printf 'get_time 1 efimm\xff')" || { echo "# $f accepted non-UTF-8"; bad=1; }
	done
	return $bad
}

# BYTES: a byte string of random length (0..80) and content from bash's
# seeded generator, as printf escapes (builtins only: no forks).
random_bytes() {
	local n=$((RANDOM % 81)) i b
	BYTES=
	for ((i = 0; i < n; i++)); do
		printf -v b '\\x%02x' $((RANDOM % 256))
		BYTES+=$b
	done
}

test_random() {
	local i f files=($FILES) accepted=0
	RANDOM=$SEED
	for ((i = 0; i < CASES; i++)); do
		f=${files[$((RANDOM % ${#files[@]}))]}
		random_bytes
		# shellcheck disable=SC2059
		printf "$BYTES" >"$EFIMM_DEBUGFS/$f" 2>/dev/null && accepted=$((accepted + 1))
	done
	echo "# $CASES random writes (seed $SEED), $accepted accepted"
	# Still alive and correct afterwards.
	echo "get_time 5 efimm" >"$EFIMM_DEBUGFS/bench" &&
		grep -q '^errors 0$' "$EFIMM_DEBUGFS/bench" &&
		grep -qx '[01]' "$EFIMM_DEBUGFS/route"
}

require_lowmap
efimm_load || ktap_exit_fail_msg "cannot load efimm"
ktap_print_header
ktap_set_plan 2
ktap_test_result "malformed commands are refused" test_crafted
ktap_test_result "seeded random bytes into every file leave efimm working" test_random
echo 0 >"$EFIMM_DEBUGFS/route"
echo 0 >"$EFIMM_DEBUGFS/watch_kernel_path"
efimm_unload
ktap_finished
