#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the kselftests the VM runs, and list them.
#
# Usage:
#   selftests.sh build   build selftests/* and the kernel's own efivarfs
#                        kselftest (from the same tree) into the cache
#   selftests.sh list    print every test program, one path a line, in the
#                        order the VM runs them

. "$(dirname "$0")/lib.sh"
eval "$("$EFIMM_TOP"/scripts/kernel.sh env)"

KSFT_OUT=$EFIMM_CACHE/kselftest

# TEST_PROGS of a kselftest Makefile, in order.
test_progs() {
	make -s -f - -C "$1" print-progs <<'EOF'
include Makefile
print-progs:
	@printf '%s\n' $(TEST_PROGS)
EOF
}

build() {
	stage "selftests: building"
	mkdir -p "$KSFT_OUT"
	# The upstream efivarfs kselftest, built from the kernel we boot.
	mkdir -p "$KSFT_OUT/efivarfs"
	make -s -C "$KSRC_DIR/tools/testing/selftests/efivarfs" \
		OUTPUT="$KSFT_OUT/efivarfs" all >/dev/null
	cp "$KSRC_DIR"/tools/testing/selftests/efivarfs/efivarfs.sh "$KSFT_OUT/efivarfs/"
	# kselftest helpers our shell tests source.
	cp "$KSRC_DIR"/tools/testing/selftests/kselftest/ktap_helpers.sh "$KSFT_OUT/"
	# The test module efimm's exposure test loads, against the same build.
	mkdir -p "$KSFT_OUT/mmprobe"
	cp "$EFIMM_TOP"/selftests/efimm/mmprobe/Kbuild \
		"$EFIMM_TOP"/selftests/efimm/mmprobe/efimm_mmprobe.c "$KSFT_OUT/mmprobe/"
	kmake -s M="$KSFT_OUT/mmprobe" modules >/dev/null
	"$EFIMM_TOP"/scripts/sign-module.sh "$KBUILD_DIR" "$KSFT_OUT/mmprobe/efimm_mmprobe.ko"
	local d
	for d in "$EFIMM_TOP"/selftests/*/; do
		[ -f "$d/Makefile" ] || continue
		make -s -C "$d" KSFT_OUT="$KSFT_OUT" \
			KSFT_INCLUDE="$KSRC_DIR/tools/testing/selftests" >/dev/null
	done
}

suite_progs() {
	local p
	for p in $(KSFT_OUT=$KSFT_OUT test_progs "$1"); do
		echo "${1%/}/$p"
	done
}

# lockdown/ locks the kernel down for the rest of the boot: last.
list() {
	local d
	for d in "$EFIMM_TOP"/selftests/*/; do
		[ -f "$d/Makefile" ] && [ "$(basename "$d")" != lockdown ] || continue
		suite_progs "$d"
	done
	echo "$KSFT_OUT/efivarfs/efivarfs.sh"
	suite_progs "$EFIMM_TOP/selftests/lockdown/"
}

case "${1:-}" in
build) build ;;
list) list ;;
*) die "usage: $0 build|list" ;;
esac
