#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# efivarfs-copy.sh SRC DST: copy the kernel's efivarfs kselftest (the
# directory SRC) into DST, with one change to how it waits for its own
# background jobs; what it checks of efivarfs is unchanged. make
# selftests installs this copy, which route.sh and the boots run.
#
# Its test_multiple_* cases end each job with "wait -n %N". In bash 5.2,
# "wait -n" can miss a job whose SIGCHLD is handled between its two scans
# of the jobs table; it then waits for any other child, and the other
# jobs of the case wait on FIFOs for the ends that never come: the test
# hangs (bash 5.3 rescans, see the comment "It's possible for there to be
# a dead job that was reaped when SIGCHLD was unblocked" in its jobs.c).
# "wait %N" finds a job that has already ended. tests/test_efivarfs_copy.py
# reproduces the hang and shows the copy free of it.

set -e
src=$1 dst=$2
[ -f "$src/efivarfs.sh" ] && [ -d "$dst" ] || {
	echo "usage: $0 SRC DST (SRC holding efivarfs.sh, DST a directory)" >&2
	exit 2
}
pattern='wait -n %\$1'
if [ "$(grep -c "$pattern" "$src/efivarfs.sh")" != 1 ]; then
	echo "$src/efivarfs.sh: expected one '$pattern'; the upstream test changed" >&2
	exit 1
fi
cp -a "$src"/. "$dst"/
sed -i "s/$pattern/wait %\$1/" "$dst/efivarfs.sh"
