#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build and install the kselftests the VM runs, the kernel's way.
#
# Usage:
#   selftests.sh build   stage selftests/* beside the kernel's own suites
#                        (efivarfs, from the tree we boot) in a copy of
#                        tools/testing/selftests, then run its top-level
#                        `make install`: run_kselftest.sh, the runner and
#                        kselftest-list.txt land in the cache
#   selftests.sh count   print how many tests the install lists
#   selftests.sh install-dir   print where the install is
#
# EFIMM_KERNEL=debug builds them for make stress's debug kernel, into a
# folder of their own.

. "$(dirname "$0")/lib.sh"
eval "$("$EFIMM_TOP"/scripts/kernel.sh env)"

KSFT_OUT=$EFIMM_CACHE/kselftest
[ "$EFIMM_KERNEL" = normal ] || KSFT_OUT+=-$EFIMM_KERNEL
# tools/testing/selftests as the kselftest Makefiles expect to find it:
# the kernel's framework linked in, the suites copied (an `include
# ../lib.mk` is resolved from the suite's own directory).
KSFT_SRC=$KSFT_OUT/src
KSFT_INSTALL=$KSFT_OUT/install
# The order the guest runs them in; lockdown/ locks the kernel down for the
# rest of the boot: last (scripts/guest-tests.sh).
OUR_SUITES="efimm lowmap lockdown"
TARGETS="efimm efivarfs lowmap lockdown"

build() {
	local ksft=$KSRC_DIR/tools/testing/selftests f s
	stage "selftests: building and installing ($TARGETS) for the $EFIMM_KERNEL kernel"
	mkdir -p "$KSFT_SRC"
	for f in Makefile lib.mk kselftest kselftest.h kselftest_harness.h \
		run_kselftest.sh; do
		ln -sfn "$ksft/$f" "$KSFT_SRC/$f"
	done
	# The kernel's efivarfs test, with its waits for its own jobs made
	# safe under bash 5.2 (efivarfs-copy.sh says why).
	rm -rf "$KSFT_SRC/efivarfs"
	mkdir -p "$KSFT_SRC/efivarfs"
	"$EFIMM_TOP"/scripts/efivarfs-copy.sh "$ksft/efivarfs" "$KSFT_SRC/efivarfs"
	for s in $OUR_SUITES; do
		copy_sources "$EFIMM_TOP/selftests/$s/" "$KSFT_SRC/$s/"
	done
	rm -rf "$KSFT_INSTALL"
	# FORCE_TARGETS: fail if any suite fails, not only if all do.
	make -s -C "$KSFT_SRC" top_srcdir="$KSRC_DIR" TARGETS="$TARGETS" FORCE_TARGETS=1 \
		KSFT_INSTALL_PATH="$KSFT_INSTALL" KDIR="$KBUILD_DIR" \
		RUSTC="$RUSTC" BINDGEN="$BINDGEN" "${KMAKE_CC[@]}" install >"$KSFT_OUT/build.log" 2>&1 ||
		{ tail -n 40 "$KSFT_OUT/build.log" >&2; die "selftests failed to build; log: $KSFT_OUT/build.log"; }
	# The test modules load under lockdown too: sign the installed copies.
	for m in efimm_mmprobe efimm_hostile; do
		"$EFIMM_TOP"/scripts/sign-module.sh "$KBUILD_DIR" \
			"$KSFT_INSTALL/efimm/mmprobe/$m.ko"
	done
	for s in $TARGETS; do
		grep -q "^$s:" "$KSFT_INSTALL/kselftest-list.txt" ||
			die "suite $s is missing from $KSFT_INSTALL/kselftest-list.txt"
	done
}

case "${1:-}" in
build) build ;;
count) wc -l <"$KSFT_INSTALL/kselftest-list.txt" ;;
install-dir) echo "$KSFT_INSTALL" ;;
*) die "usage: $0 build|count|install-dir" ;;
esac
