#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sign-module.sh KDIR MODULE.ko: sign a module with the kernel build's own
# key, as modules_install would, so that it loads under lockdown (which
# refuses unsigned modules). A no-op for kernels without CONFIG_MODULE_SIG
# or without the key (your own distribution kernel), and for a module
# already signed.
set -euo pipefail
kdir=$1 ko=$2
key=$kdir/certs/signing_key.pem cert=$kdir/certs/signing_key.x509

grep -q '^CONFIG_MODULE_SIG=y' "$kdir/.config" 2>/dev/null || exit 0
[ -f "$key" ] && [ -x "$kdir/scripts/sign-file" ] || exit 0
if [ "$(tail -c 28 "$ko" | tr -d '\0')" = "~Module signature appended~" ]; then
	exit 0
fi
hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"/\1/p' "$kdir/.config")
"$kdir/scripts/sign-file" "$hash" "$key" "$cert" "$ko"
echo "    signed $(basename "$ko") with $kdir/certs/signing_key.pem"
