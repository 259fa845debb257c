#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one VM run from what the guest left behind.

A run passes only if the guest's KTAP output is complete (plan met, end
marker present) and the kernel log shows no panic, oops, BUG or WARN.
vng's exit status is never consulted. Usage:

    ktap.py judge RUN_NAME OUTDIR   prints one line per result and a final
                                    "passed N failed N" line
    ktap.py judge-reset RUN_NAME OUTDIR exited|timeout
                                    the same for a run whose guest asked the
                                    firmware to power off
"""

import re
import sys
from dataclasses import dataclass

END_MARKER = "# EFIMM-END"

RESULT_RE = re.compile(
    r"^(?P<ok>ok|not ok) (?P<num>\d+) (?P<desc>[^#]*?)\s*(?:#\s*(?P<dir>.*))?$")
PLAN_RE = re.compile(r"^1\.\.(\d+)$")
RUNNER_NAME_RE = re.compile(r"^selftests: (\S+): (\S+)$")
XFAIL_RE = re.compile(r"#\s*XFAIL", re.IGNORECASE)

# What a healthy kernel never prints. Matched against the serial console.
# The EFI stub's truncation of the command line loses vng's init= and the
# guest command: the guest boots the host's own init instead.
KERNEL_PROBLEMS = re.compile(
    r"Kernel panic|BUG: |Oops|WARNING: |general protection fault|"
    r"Command line is too long|"
    r"Call Trace:|UBSAN:|kmemleak: \d+ new suspected|"
    r"INFO: task .* blocked for more than|watchdog: BUG: soft lockup")
# A user task's #GP report (show_signal()) is no kernel problem: mode=cpl3's
# firmware takes them on purpose. A kernel-mode one is an "Oops: ".
USER_TRAP = re.compile(r"traps: \S+\[\d+\] general protection fault ip:")


@dataclass
class Result:
    name: str
    passed: bool
    skipped: bool = False
    detail: str = ""


def parse_result(line):
    """Parse one KTAP result line, or return None."""
    m = RESULT_RE.match(line)
    if not m:
        return None
    directive = (m.group("dir") or "").strip()
    skipped = directive.upper().startswith("SKIP")
    passed = m.group("ok") == "ok"
    # The kselftest runner's "selftests: SUITE: TEST" reads "SUITE:TEST".
    name = RUNNER_NAME_RE.sub(r"\1:\2", m.group("desc").strip())
    return Result(name, passed, skipped, "" if passed else directive)


def parse(text):
    """Return (results, problems) for the KTAP of kselftest runs.

    Subtests printed by a test program (its own KTAP, indented as "# ")
    count one result each; a program that failed after all its subtests
    passed counts as one more failure, so a crash never goes unseen.
    """
    results, problems = [], []
    plan = None
    pending = []
    seen_end = False
    top = 0
    for raw in text.splitlines():
        line = raw.rstrip()
        if line == END_MARKER:
            seen_end = True
            continue
        # One plan per run of the kselftest runner: the guest runs it twice.
        m = PLAN_RE.match(line)
        if m:
            plan = (plan or 0) + int(m.group(1))
            continue
        if line.startswith("# "):
            sub = parse_result(line[2:])
            if sub:
                pending.append(sub)
            continue
        res = parse_result(line)
        if not res:
            continue
        top += 1
        # The runner reports a program's exit status 2 as an expected
        # failure; no program here expects one, and bash exits 2 on a
        # syntax or usage error.
        if res.passed and res.detail == "" and XFAIL_RE.search(line):
            res.passed = False
            res.detail = "XFAIL: the program exited with status 2"
        if pending:
            for sub in pending:
                sub.name = f"{res.name}/{sub.name}"
            results.extend(pending)
            if not res.passed and all(s.passed for s in pending):
                results.append(res)
        else:
            results.append(res)
        pending = []
    if plan is None:
        problems.append("no KTAP plan: the test runner never started")
    elif top != plan:
        problems.append(f"{top} of {plan} planned tests reported")
    if not seen_end:
        problems.append("end marker missing: the guest hung, panicked or timed out")
    return results, problems


def kernel_problems(console, dmesg=""):
    """Lines of the kernel log that show the kernel went wrong.

    The console also carries the tests' own output, indented as "# " lines
    by the guest runner, which may quote what a test read (a fault
    description, a dmesg line): those are not the kernel's. A kernel
    message that the console interleaved into such a line is still in
    dmesg, which the guest saves at the end of a run it survived.
    """
    kernel = [l for l in console.splitlines() if not l.startswith("# ")]
    kernel += dmesg.splitlines()
    return [l.strip() for l in kernel if KERNEL_PROBLEMS.search(USER_TRAP.sub("", l))]


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def judge(run, outdir):
    ktap = read(f"{outdir}/results.ktap")
    console = read(f"{outdir}/console.log") or ""
    if ktap is None:
        results, problems = [], ["no results: the guest did not boot or never ran the tests"]
    else:
        results, problems = parse(ktap)
    bad_lines = kernel_problems(console, read(f"{outdir}/dmesg.txt") or "")
    results.append(Result("kernel log clean", not bad_lines,
                          detail="; ".join(bad_lines[:3])))
    for p in problems:
        results.append(Result("run complete", False, detail=p))

    passed = failed = 0
    for r in results:
        if r.skipped:
            tag = "SKIP"
        elif r.passed:
            tag = "PASS"
        else:
            tag = "FAIL"
        passed += r.passed
        failed += not r.passed
        extra = f"  ({r.detail})" if r.detail else ""
        print(f"  {tag} {run}: {r.name}{extra}")
    if failed:
        print(f"  see {outdir}/console.log and {outdir}/results.ktap")
    print(f"passed {passed} failed {failed}")
    return failed == 0


def reset_problems(reset_log, console, timed_out):
    """Why a ResetSystem(shutdown) run did not power the machine off."""
    if reset_log is None or "RESET-REQUESTED" not in reset_log:
        return ["the guest never asked for the reset"]
    problems = []
    if "RESET-RETURNED" in reset_log:
        problems.append("ResetSystem returned: " + reset_log.split("RESET-RETURNED", 1)[1].strip()[:200])
    if timed_out:
        problems.append("QEMU did not exit: the machine is still running")
    boots = console.count("Linux version")
    if boots != 1:
        problems.append(f"{boots} boots: the firmware reset instead of powering off")
    return problems


def judge_reset(run, outdir, timed_out):
    problems = reset_problems(read(f"{outdir}/reset.log"),
                              read(f"{outdir}/console.log") or "", timed_out)
    bad = kernel_problems(read(f"{outdir}/console.log") or "")
    results = [Result("ResetSystem(shutdown) through efimm powers the VM off",
                      not problems, detail="; ".join(problems)),
               Result("kernel log clean", not bad, detail="; ".join(bad[:3]))]
    failed = 0
    for r in results:
        failed += not r.passed
        extra = f"  ({r.detail})" if r.detail else ""
        print(f"  {'PASS' if r.passed else 'FAIL'} {run}: {r.name}{extra}")
    print(f"passed {len(results) - failed} failed {failed}")
    return failed == 0


def main(argv):
    if len(argv) == 4 and argv[1] == "judge":
        return 0 if judge(argv[2], argv[3]) else 1
    if len(argv) == 5 and argv[1] == "judge-reset":
        return 0 if judge_reset(argv[2], argv[3], argv[4] == "timeout") else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
