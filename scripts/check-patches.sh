#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check the patch series the way a maintainer would: every patch passes
# checkpatch.pl --strict, and the kernel builds after each one (incremental
# builds in the cached tree, which is restored to the full series at the
# end). Prints one line per patch; exits non-zero on the first failure.

. "$(dirname "$0")/lib.sh"
eval "$("$EFIMM_TOP"/scripts/kernel.sh env)"

[ -z "${KSRC:-}" ] || die "checks the project's own series, not KSRC"
"$EFIMM_TOP"/scripts/kernel.sh build >/dev/null

restore() {
	stage "patches: restoring the full series"
	cd "$KSRC_DIR"
	# Only after a failed `git am`; otherwise git has nothing to abort.
	git am --abort >/dev/null 2>&1 || true
	rm -f "$KSRC_DIR/.git/efimm-series"
	"$EFIMM_TOP"/scripts/kernel.sh build >/dev/null
}
trap restore EXIT

cd "$KSRC_DIR"
git reset -q --hard base
n=0
for p in "$EFIMM_TOP"/kernel/patches/*.patch; do
	n=$((n + 1))
	name=$(basename "$p")
	# The tree is one commit of Debian's source, without upstream
	# history: checkpatch cannot look up the ids that Fixes: tags name.
	"$KSRC_DIR"/scripts/checkpatch.pl --strict -q --ignore UNKNOWN_COMMIT_ID \
		"$p" >/tmp/checkpatch.$$ 2>&1 ||
		{ cat /tmp/checkpatch.$$; die "$name: checkpatch"; }
	git -c user.name=efimm -c user.email=efimm@localhost am -q "$p" ||
		die "$name does not apply"
	stage "patches: $name applied, building"
	run_with_ticker "$EFIMM_CACHE/patch-build.log" \
		kmake -j"$(($(nproc) + 1))" bzImage modules
	printf 'ok %d %s: checkpatch --strict clean, kernel builds\n' "$n" "$name"
done
rm -f /tmp/checkpatch.$$
