#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# other-kernel.sh debug|rt: one of make stress's other kernels (debug:
# kernel/config-debug, lockdep, KASAN; rt: kernel/config-rt, PREEMPT_RT),
# then efimm.ko and the selftests built against it. The module is built
# from a copy of the sources in the cache (kbuild refuses an output folder
# apart from a source tree that holds the normal build's objects), so that
# this checkout's efimm.ko stays the normal kernel's.

. "$(dirname "$0")/lib.sh"

case "${1:-}" in
debug | rt) export EFIMM_KERNEL=$1 ;;
*) die "usage: $0 debug|rt" ;;
esac

"$EFIMM_TOP"/scripts/deps.sh "$EFIMM_KERNEL"
"$EFIMM_TOP"/scripts/kernel.sh build
eval "$("$EFIMM_TOP"/scripts/kernel.sh env)"
mo=$EFIMM_CACHE/module-$EFIMM_KERNEL
stage "module: efimm.ko against $KBUILD_DIR, in $mo"
mkdir -p "$mo"
copy_sources --exclude=bindings_generated.rs --include='*/' --include=Kbuild --include='*.rs' \
	--include='*.[chS]' --exclude='*' \
	"$EFIMM_TOP"/Kbuild "$EFIMM_TOP"/src "$EFIMM_TOP"/rust "$mo"/
# shellcheck disable=SC2086 # KMAKE_CC_ARGS is a list of make arguments.
make -s -C "$KBUILD_DIR" M="$mo" $KMAKE_CC_ARGS RUSTC="$RUSTC" BINDGEN="$BINDGEN" \
	LIBCLANG_PATH="$LIBCLANG_PATH" modules
"$EFIMM_TOP"/scripts/sign-module.sh "$KBUILD_DIR" "$mo/efimm.ko"
"$EFIMM_TOP"/scripts/selftests.sh build
