#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Linux 7.2, apply kernel/patches, merge kernel/config over tinyconfig
# and build it, all in the cache so that later runs rebuild incrementally.
#
# Usage: kernel.sh [build|source|env]
#   build   (default) make sure bzImage is up to date
#   source  only fetch and patch the source tree
#   env     print KSRC_DIR/KBUILD_DIR for the caller to eval
#
# KSRC=/path/to/linux uses a tree of your own (already patched by you) and
# builds it in its own cache folder; the project's patches are not applied.

. "$(dirname "$0")/lib.sh"

if [ -n "${KSRC:-}" ]; then
	KSRC_DIR=$(cd "$KSRC" && pwd)
	KBUILD_DIR=$EFIMM_CACHE/build-$(echo "$KSRC_DIR" | sha1sum | cut -c1-12)
else
	KSRC_DIR=$EFIMM_CACHE/linux
	KBUILD_DIR=$EFIMM_CACHE/build
fi
# The fragments merged over tinyconfig, in order.
FRAGMENTS=("$EFIMM_TOP/kernel/config")
if [ "$EFIMM_KERNEL" != normal ]; then
	KBUILD_DIR=$KBUILD_DIR-$EFIMM_KERNEL
	FRAGMENTS+=("$EFIMM_TOP/kernel/config-$EFIMM_KERNEL")
fi

fetch_deb() {
	local c=$EFIMM_CACHE/apt uris
	mkdir -p "$c/lists/partial" "$c/parts"
	# The machine's own Debian mirror, with the sid suite added privately:
	# the system's apt sources stay untouched.
	uris=$(grep -m1 -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null) ||
		die "no deb822 apt source found to take the Debian mirror from"
	printf 'Types: deb\n%s\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$uris" >"$c/parts/sid.sources"
	local o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$c/parts"
		-o "Dir::State::Lists=$c/lists" -o Dir::Etc::Preferences=/dev/null
		-o Dir::Etc::PreferencesParts=/dev/null -o APT::Sandbox::User=root)
	stage "kernel: apt-get update (sid, private lists)"
	apt-get "${o[@]}" update -qq
	cd "$EFIMM_CACHE"
	if ! apt-get "${o[@]}" download "$KVER_PKG=$KVER_PIN" >/dev/null 2>&1; then
		warn "$KVER_PKG $KVER_PIN is gone from the mirror; using the newest $KVER_PKG"
		apt-get "${o[@]}" download "$KVER_PKG" >/dev/null
	fi
	cd - >/dev/null
}

# Extract the pristine source once, as a git repository whose first commit is
# the release: applying a new patch series is "reset to it, git am", which
# only rewrites files the old or new series touched (incremental rebuild).
prepare_source() {
	if [ ! -d "$KSRC_DIR/.git" ]; then
		local deb
		deb=$(ls "$EFIMM_CACHE"/${KVER_PKG}_*.deb 2>/dev/null | tail -n 1 || true)
		if [ -z "$deb" ]; then
			fetch_deb
			deb=$(ls "$EFIMM_CACHE"/${KVER_PKG}_*.deb | tail -n 1)
		fi
		stage "kernel: extracting $(basename "$deb")"
		rm -rf "$KSRC_DIR" "$EFIMM_CACHE/deb"
		dpkg-deb -x "$deb" "$EFIMM_CACHE/deb"
		mkdir -p "$KSRC_DIR"
		tar -xf "$EFIMM_CACHE"/deb/usr/src/${KVER_PKG}.tar.xz \
			-C "$KSRC_DIR" --strip-components=1
		rm -rf "$EFIMM_CACHE/deb"
		stage "kernel: recording the pristine tree in git"
		(cd "$KSRC_DIR" &&
			git init -q &&
			git -c user.name=efimm -c user.email=efimm@localhost \
				add -f -A . &&
			git -c user.name=efimm -c user.email=efimm@localhost \
				commit -q -m "$(basename "$deb" .deb)" &&
			git tag base)
	fi
}

series_id() {
	cat "$EFIMM_TOP"/kernel/patches/*.patch 2>/dev/null | sha1sum | cut -c1-40
}

apply_patches() {
	local id stamp=$KSRC_DIR/.git/efimm-series
	id=$(series_id)
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ]; then
		return
	fi
	stage "kernel: applying kernel/patches ($(ls "$EFIMM_TOP"/kernel/patches/*.patch 2>/dev/null | wc -l) patches)"
	cd "$KSRC_DIR"
	git am --abort >/dev/null 2>&1 || true
	git reset -q --hard base
	git clean -qfdx -e .git
	local p
	for p in "$EFIMM_TOP"/kernel/patches/*.patch; do
		[ -e "$p" ] || continue
		git -c user.name=efimm -c user.email=efimm@localhost \
			am -q --keep-cr "$p" ||
			die "patch $(basename "$p") does not apply to $(git log -1 --format=%s base)"
	done
	echo "$id" >"$stamp"
	cd - >/dev/null
}

configure() {
	local stamp=$KBUILD_DIR/.efimm-config
	local id
	# Patches may add Kconfig options: the series (or a user tree's HEAD)
	# is part of what the configuration depends on.
	id=$( (cat "${FRAGMENTS[@]}"
		if [ -z "${KSRC:-}" ]; then series_id; else git -C "$KSRC_DIR" rev-parse HEAD 2>/dev/null || true; fi
	) | sha1sum)
	if [ -f "$KBUILD_DIR/.config" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ]; then
		return
	fi
	stage "kernel: configuring (tinyconfig + ${FRAGMENTS[*]#"$EFIMM_TOP"/})"
	mkdir -p "$KBUILD_DIR"
	kmake -s tinyconfig >/dev/null
	(cd "$KBUILD_DIR" &&
		KCONFIG_CONFIG=.config "$KSRC_DIR"/scripts/kconfig/merge_config.sh \
			-m -O "$KBUILD_DIR" .config "${FRAGMENTS[@]}" >/dev/null)
	kmake -s olddefconfig >/dev/null
	check_config "${FRAGMENTS[@]}"
	echo "$id" >"$stamp"
}

# Every option the fragments ask for (the last one to name an option wins)
# must have survived olddefconfig: a silently dropped option is a broken
# guest later.
check_config() {
	local line opt val got bad=0
	local -A want=()
	local -a order=()
	while read -r line; do
		case "$line" in
		CONFIG_*=*) opt=${line%%=*} val=${line#*=} ;;
		"# CONFIG_"*" is not set") opt=${line#\# } opt=${opt%% *} val=n ;;
		*) continue ;;
		esac
		[ -n "${want[$opt]+set}" ] || order+=("$opt")
		want[$opt]=$val
	done < <(cat "$@")
	for opt in "${order[@]}"; do
		val=${want[$opt]}
		got=$(grep -E "^$opt=|^# $opt is not set" "$KBUILD_DIR/.config" || true)
		case "$got" in
		"$opt=$val") ;;
		"# $opt is not set") [ "$val" = n ] || { warn "$opt=$val was dropped"; bad=1; } ;;
		*) [ "$val" = n ] && [ -z "$got" ] || { warn "$opt: wanted $val, got '${got:-unset}'"; bad=1; } ;;
		esac
	done
	[ "$bad" -eq 0 ] || die "the kernel configuration fragments do not apply cleanly (see above)"
}

build() {
	if [ -f "$KBUILD_DIR/vmlinux" ]; then
		stage "kernel: updating the build (incremental, ~30 s when nothing changed)"
	else
		stage "kernel: building the $EFIMM_KERNEL kernel's bzImage and modules from scratch (~10-15 min on 2 cores)"
	fi
	run_with_ticker "$EFIMM_CACHE/kernel-build${KBUILD_DIR#"$EFIMM_CACHE"/build}.log" \
		kmake -j"$(($(nproc) + 1))" bzImage modules
	stage "kernel: built $(kmake -s kernelrelease 2>/dev/null)"
}

case "${1:-build}" in
env)
	printf 'KSRC_DIR=%q\nKBUILD_DIR=%q\nKMAKE_CC_ARGS=%q\n' "$KSRC_DIR" "$KBUILD_DIR" "${KMAKE_CC[*]}"
	;;
source)
	[ -n "${KSRC:-}" ] || { prepare_source; apply_patches; }
	;;
build)
	if [ -z "${KSRC:-}" ]; then
		prepare_source
		apply_patches
	fi
	configure
	build
	;;
*)
	die "usage: $0 [build|source|env]"
	;;
esac
