#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run a command for at most SECONDS and leave none of its processes behind.

    bounded.py [--grace S] [--record FILE] SECONDS CMD...

timeout(1) cannot do this for a VM: with --foreground it signals only its
child (vng), whose QEMU then runs on beside the next boot; without it, it
signals one process group, which a child that calls setsid() leaves. Here
the runner makes itself a child subreaper, so every descendant, however it
detaches, stays below it; when the time is up, or when the runner itself is
told to stop, it sends SIGTERM to all of them, SIGKILL after S seconds of
grace (default 10), and returns only once none is left. Descendants still
alive when the command exits normally are ended the same way.

Exit status: the command's, 124 if the time ran out (as timeout(1)), or
128 + the signal that stopped the runner. --record FILE writes one line,
"wall_s=N limit_s=N timed_out=0|1 killed=N", for the run's summary.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def descendants(root):
    """Pids below root, from /proc's parent links (the walk is racy by
    nature: callers repeat it until it comes back empty)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The name in parentheses may hold spaces: split after it.
        fields = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def reap():
    """Collect every exited child without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_all(grace):
    """SIGTERM every descendant, SIGKILL what is left after grace seconds;
    return the pids that had to be signalled."""
    me = os.getpid()
    ended = set()
    deadline = time.monotonic() + grace
    sig = signal.SIGTERM
    while True:
        reap()
        pids = descendants(me)
        if not pids:
            return ended
        ended.update(pids)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if time.monotonic() >= deadline:
            sig = signal.SIGKILL
        time.sleep(0.1)


def main(argv):
    grace, record = 10.0, None
    args = argv[1:]
    while args and args[0].startswith("--"):
        if args[0] == "--grace" and len(args) > 1:
            grace = float(args[1])
        elif args[0] == "--record" and len(args) > 1:
            record = args[1]
        else:
            break
        args = args[2:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    limit = float(args[0])
    cmd = args[1:]

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("bounded: prctl(PR_SET_CHILD_SUBREAPER) failed", file=sys.stderr)
        return 125

    stopped_by = []

    def on_signal(signum, _frame):
        stopped_by.append(signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    start = time.monotonic()
    # A session of its own: a terminal's signals reach the runner only.
    child = subprocess.Popen(cmd, start_new_session=True)
    rc, timed_out = None, False
    while rc is None:
        rc = child.poll()
        if rc is not None:
            break
        if stopped_by:
            break
        if time.monotonic() - start >= limit:
            timed_out = True
            break
        time.sleep(0.2)
    wall = time.monotonic() - start

    named = [f"{pid}:{comm(pid)}" for pid in descendants(os.getpid())]
    ended = end_all(grace)
    if timed_out:
        print(f"bounded: {' '.join(cmd[:1])} ran past its {limit:.0f} s limit;"
              f" ended {len(ended)} processes ({' '.join(named[:8])})",
              file=sys.stderr)
        rc = 124
    elif stopped_by:
        rc = 128 + stopped_by[0]
    elif ended:
        print(f"bounded: ended {len(ended)} processes left behind by"
              f" {cmd[0]} ({' '.join(named[:8])})", file=sys.stderr)
    if rc is None:
        rc = child.wait()
    if rc < 0:
        rc = 128 - rc
    if record:
        with open(record, "w") as f:
            f.write(f"wall_s={wall:.0f} limit_s={limit:.0f}"
                    f" timed_out={int(timed_out)} killed={len(ended)}\n")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
