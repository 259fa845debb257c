#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install everything efimm needs to build a Rust-enabled kernel and boot it
# under OVMF. Idempotent: a few seconds when everything is already present.
# `deps.sh bench` also installs what make bench draws its chart with,
# `deps.sh debug` the compiler of make stress's debug kernel, `deps.sh rt`
# cyclictest (rt-tests), which judges its PREEMPT_RT kernel.

. "$(dirname "$0")/lib.sh"

APT_PKGS=(
	build-essential flex bison bc libelf-dev libssl-dev cpio kmod dwarves
	rsync xz-utils python3-venv e2fsprogs busybox-static
	rustc-web rust-web-src
	qemu-system-x86 ovmf udev strace
)
BINDGEN_VER=0.73.2
LIBCLANG_VER=18.1.1
VNG_VER=1.42
PY_PKGS=("libclang==$LIBCLANG_VER" "virtme-ng==$VNG_VER")
[ "${1:-}" = bench ] && PY_PKGS+=("matplotlib==3.10.8")
# make stress's debug kernel is built by clang (scripts/lib.sh).
[ "${1:-}" = debug ] && APT_PKGS+=(clang-19 lld-19 llvm-19)
[ "${1:-}" = rt ] && APT_PKGS+=(rt-tests)

missing_apt() {
	local p
	for p in "${APT_PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed' || echo "$p"
	done
}

sudo_if_needed() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

mapfile -t need < <(missing_apt)
if [ ${#need[@]} -gt 0 ]; then
	stage "deps: apt-get install ${need[*]}"
	sudo_if_needed apt-get update -qq
	sudo_if_needed env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! "$BINDGEN" --version 2>/dev/null | grep -q " $BINDGEN_VER\$"; then
	command -v cargo >/dev/null ||
		die "cargo is not on PATH: bindgen and the host tests need a Rust toolchain (rustup)"
	stage "deps: cargo install bindgen-cli $BINDGEN_VER (~3 min)"
	mkdir -p "$EFIMM_CACHE"
	run_with_ticker "$EFIMM_CACHE/bindgen-install.log" \
		cargo install --root "$EFIMM_CACHE/cargo" --locked \
		bindgen-cli --version "$BINDGEN_VER"
fi

py_ok() {
	[ -x "$VENV/bin/vng" ] || return 1
	local want have
	have=$("$VENV/bin/pip" freeze 2>/dev/null)
	for want in "${PY_PKGS[@]}"; do
		grep -qix "$want" <<<"$have" || return 1
	done
}
if ! py_ok; then
	stage "deps: python venv with ${PY_PKGS[*]}"
	[ -d "$VENV" ] || /usr/bin/python3 -m venv "$VENV"
	"$VENV/bin/pip" install -q "${PY_PKGS[@]}"
fi
LIBCLANG_PATH=$(echo "$VENV"/lib/python3*/site-packages/clang/native)
[ -e "$LIBCLANG_PATH/libclang.so" ] || die "libclang.so not found in $LIBCLANG_PATH"
