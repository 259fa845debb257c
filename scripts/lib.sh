# SPDX-License-Identifier: GPL-2.0
# Shared settings and helpers for the efimm scripts. Source, do not run.

set -euo pipefail

EFIMM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EFIMM_CACHE=${EFIMM_CACHE:-$HOME/.cache/efimm}
export EFIMM_TOP EFIMM_CACHE

# Toolchain locations, all installed by scripts/deps.sh.
RUSTC=/usr/bin/rustc
BINDGEN=$EFIMM_CACHE/cargo/bin/bindgen
VENV=$EFIMM_CACHE/venv
LIBCLANG_PATH=$(echo "$VENV"/lib/python3*/site-packages/clang/native)
export RUSTC BINDGEN LIBCLANG_PATH

# Kernel source: Debian's package, pinned; KSRC= overrides with a user tree.
KVER_PKG=linux-source-7.2
KVER_PIN=7.2.13-1

_efimm_t0=${_efimm_t0:-$(date +%s)}
export _efimm_t0

elapsed() {
	local s=$(($(date +%s) - _efimm_t0))
	printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# stage NAME: announce a step with the time spent so far.
stage() {
	printf '==> [%s] %s\n' "$(elapsed)" "$*"
}

warn() {
	printf 'efimm: warning: %s\n' "$*" >&2
}

die() {
	printf 'efimm: error: %s\n' "$*" >&2
	exit 1
}

# run_with_ticker LOG CMD...: run a long command with its output in LOG,
# printing a progress line every 30 s so it never looks hung.
run_with_ticker() {
	local log=$1 pid rc
	shift
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 30 &
		wait $! || true
		kill -0 "$pid" 2>/dev/null || break
		printf '    [%s] ... %s\n' "$(elapsed)" \
			"$(tail -n 1 "$log" | cut -c1-100)"
	done
	rc=0
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log" >&2
		die "'$*' failed ($rc); full log: $log"
	fi
}

# copy_sources RSYNC_ARGS...: rsync for sources that make then builds where
# they land: by content, not by time, and what is copied gets the time of
# the copy. With -a, a file from a checkout older than the last build's
# sources kept its older time, and make kept the objects built from the
# sources it replaced.
copy_sources() {
	rsync -rlp --checksum --delete "$@"
}

# stoppable CMD...: run CMD and return its status; if this script is
# stopped meanwhile (TERM, INT, HUP), stop CMD first (TERM, and wait for
# it: CMD should end on TERM, as vm.sh and bounded.py do; one still
# running STOPPABLE_GRACE seconds later, 30 by default, gets KILL), then
# exit as stopped: 143, 130 or 129. Its own jobs are all the handler stops
# (jobs -p), so a signal between the start and the wait cannot miss CMD.
# TERM is what reaches CMD: a background job of a script starts with INT
# ignored, which bash cannot trap. KILL reaches CMD alone, not what CMD
# started: it shares this script's process group. Clears this script's
# TERM, INT and HUP traps.
stoppable() {
	local rc=0
	trap '_stop_jobs 143' TERM
	trap '_stop_jobs 130' INT
	trap '_stop_jobs 129' HUP
	"$@" &
	wait $! || rc=$?
	trap - TERM INT HUP
	return "$rc"
}

_stop_jobs() {
	local pids waited=0
	pids=$(jobs -p)
	# shellcheck disable=SC2086 # pids is a list.
	[ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
	while [ -n "$(jobs -rp)" ] && [ "$waited" -lt "${STOPPABLE_GRACE:-30}" ]; do
		sleep 1
		waited=$((waited + 1))
	done
	pids=$(jobs -rp)
	# shellcheck disable=SC2086 # pids is a list.
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	wait || true
	exit "$1"
}

# EFIMM_KERNEL=debug or rt: make stress's debug kernel (kernel/config-debug)
# or PREEMPT_RT kernel (kernel/config-rt), from the same tree into a build
# folder of its own, and everything built against it. The debug kernel's C
# is built by clang: KASAN and Rust need it.
EFIMM_KERNEL=${EFIMM_KERNEL:-normal}
case "$EFIMM_KERNEL" in
normal | rt) KMAKE_CC=() ;;
debug) KMAKE_CC=(LLVM=-19) ;;
*) die "EFIMM_KERNEL=$EFIMM_KERNEL: normal, debug or rt" ;;
esac
export EFIMM_KERNEL

kmake() {
	make -C "$KSRC_DIR" O="$KBUILD_DIR" RUSTC="$RUSTC" BINDGEN="$BINDGEN" \
		"${KMAKE_CC[@]}" "$@"
}
