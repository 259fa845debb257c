#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one VM run from what the guest left behind.

A run passes only if the guest's KTAP output is complete (plan met, end
marker present), the kernel log shows no panic, oops, BUG or WARN, and the
boot matches its plan in selftests/boots.txt: the facts it must prove, the
tests it must run, the number of results each reports, nothing skipped.
vng's exit status is never consulted. Usage:

    ktap.py judge RUN_NAME OUTDIR   prints one line per result, the boot's
                                    time, and a final "passed N failed N
                                    skipped N xfail N" line; the planned
                                    tests are those EFIMM_KSFT_INSTALL's
                                    kselftest-list.txt has
"""

import os
import re
import sys
from dataclasses import dataclass, field

import plan

END_MARKER = "# EFIMM-END"
# How many of a failed test's last diagnostic lines a report shows.
NOTES_SHOWN = 12
# What the runner and the KTAP helpers print around every test: no note.
RUNNER_NOISE_RE = re.compile(r"^(# )?(TAP version \d+|timeout set to \d+|Totals: )")

RESULT_RE = re.compile(
    r"^(?P<ok>ok|not ok) (?P<num>\d+) (?P<desc>[^#]*?)\s*(?:#\s*(?P<dir>.*))?$")
PLAN_RE = re.compile(r"^1\.\.(\d+)$")
RUNNER_NAME_RE = re.compile(r"^selftests: (\S+): (\S+)$")
# A program's own plan (the runner prints its RUNNER_NAME_RE header first).
SUB_PLAN_RE = re.compile(r"^1\.\.(\d+)")

# What a healthy kernel never prints. Matched against the serial console.
# The EFI stub's truncation of the command line loses vng's init= and the
# guest command: the guest boots the host's own init instead. The debug
# kernel's checks (kernel/config-debug) report under "BUG: " or
# "WARNING: " too; their own headers are named as well, in case one
# prints without a backtrace.
KERNEL_PROBLEMS = re.compile(
    r"Kernel panic|BUG: |Oops|WARNING: |general protection fault|"
    r"Command line is too long|"
    r"Call Trace:|UBSAN:|kmemleak: \d+ new suspected|"
    r"INFO: task .* blocked for more than|watchdog: BUG: soft lockup|"
    r"KASAN: |ODEBUG: |DEBUG_LOCKS_WARN_ON|INFO: lockdep is turned off|"
    r"suspicious RCU usage|possible circular locking dependency|"
    r"inconsistent lock state|sleeping function called from invalid context|"
    r"using smp_processor_id\(\) in preemptible")
# A user task's #GP report (show_signal()) is no kernel problem: mode=cpl3's
# firmware takes them on purpose. A kernel-mode one is an "Oops: ".
USER_TRAP = re.compile(r"traps: \S+\[\d+\] general protection fault ip:")


@dataclass
class Result:
    name: str
    passed: bool
    skipped: bool = False
    detail: str = ""
    xfail: bool = False
    # The diagnostic lines the test printed before this result: shown with
    # a failure, so that CI's log says why without the output directory.
    notes: list = field(default_factory=list)

    @property
    def tag(self):
        if self.skipped:
            return "SKIP"
        if self.xfail:
            return "XFAIL"
        return "PASS" if self.passed else "FAIL"


@dataclass
class Program:
    """One test program as the kselftest runner ran it."""
    name: str
    plan: int = None          # its own KTAP plan, if it printed one
    results: int = 0          # results it reported (1 for a plain program)
    finished: bool = False    # the runner printed its result line


def parse_result(line):
    """Parse one KTAP result line, or return None."""
    m = RESULT_RE.match(line)
    if not m:
        return None
    directive = (m.group("dir") or "").strip()
    skipped = directive.upper().startswith("SKIP")
    xfail = directive.upper().startswith("XFAIL")
    passed = m.group("ok") == "ok" and not xfail
    # The kselftest runner's "selftests: SUITE: TEST" reads "SUITE:TEST".
    name = RUNNER_NAME_RE.sub(r"\1:\2", m.group("desc").strip())
    return Result(name, passed, skipped, "" if passed else directive, xfail)


def parse(text):
    """Return (results, problems, programs) for the KTAP of kselftest runs.

    Subtests printed by a test program (its own KTAP, indented as "# ")
    count one result each; a program that failed after all its subtests
    passed counts as one more failure, so a crash never goes unseen. A
    SKIP or XFAIL, at either level, is neither a pass nor a failure here:
    the boot's plan decides (judge()).
    """
    results, problems, programs = [], [], []
    plan = None
    pending, sub_plan = [], None
    notes = []
    seen_end = False
    top = 0
    running = None
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
            m = RUNNER_NAME_RE.match(line[2:])
            if m:
                running = f"{m.group(1)}:{m.group(2)}"
                pending, sub_plan, notes = [], None, []
                continue
            m = SUB_PLAN_RE.match(line[2:])
            if m:
                sub_plan = int(m.group(1))
                continue
            sub = parse_result(line[2:])
            if sub:
                sub.notes, notes = notes, []
                pending.append(sub)
            elif not RUNNER_NOISE_RE.match(line[2:]):
                notes.append(line[2:].removeprefix("# "))
            continue
        res = parse_result(line)
        if not res:
            continue
        res.notes, notes = notes, []
        top += 1
        running = None
        prog = Program(res.name, sub_plan, len(pending) or 1, True)
        programs.append(prog)
        if res.skipped and not pending:
            prog.results = 0
        # The runner reports a program's exit status 2 as an expected
        # failure; no program here expects one, and bash exits 2 on a
        # syntax or usage error.
        if res.xfail:
            res.passed, res.xfail = False, False
            res.detail = "XFAIL: the program exited with status 2"
        if pending:
            for sub in pending:
                sub.name = f"{res.name}/{sub.name}"
            results.extend(pending)
            if not res.passed and not res.skipped and all(s.passed for s in pending):
                results.append(res)
        else:
            results.append(res)
        if sub_plan is not None and len(pending) != sub_plan:
            problems.append(f"{res.name}: {len(pending)} of its {sub_plan} planned results reported")
        pending, sub_plan = [], None
    if running:
        programs.append(Program(running, sub_plan, len(pending), False))
    if plan is None:
        problems.append("no KTAP plan: the test runner never started")
    elif top != plan:
        problems.append(f"{top} of {plan} planned tests reported")
    if not seen_end:
        where = f" while {running} ran ({len(pending)} results so far)" if running else ""
        problems.append(f"end marker missing: the guest hung, panicked or timed out{where}")
    return results, problems, programs


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


def read_facts(outdir):
    """scripts/guest-facts.sh's "key value" lines, as a dict."""
    facts = {}
    for line in (read(f"{outdir}/facts.txt") or "").splitlines():
        key, _, value = line.partition(" ")
        facts[key] = value
    return facts


def read_boot_time(outdir):
    """scripts/bounded.py's record of the boot: wall_s, limit_s, timed_out."""
    text = read(f"{outdir}/boot-time.txt") or ""
    return dict(kv.split("=", 1) for kv in text.split() if "=" in kv)


def program_times(outdir):
    """Seconds each program ran, from the guest's OUTDIR/timing.txt
    (scripts/guest-tests.sh): "EPOCH LINE" at each start and result."""
    times, started = {}, {}
    for line in (read(f"{outdir}/timing.txt") or "").splitlines():
        stamp, _, rest = line.partition(" ")
        if not stamp.isdigit():
            continue
        m = RUNNER_NAME_RE.match(rest[2:]) if rest.startswith("# ") else None
        if m:
            started[f"{m.group(1)}:{m.group(2)}"] = int(stamp)
            continue
        res = parse_result(rest)
        if res and res.name in started:
            times[res.name] = int(stamp) - started.pop(res.name)
    return times


def fact_problem(fact, facts):
    """Why the facts do not show FACT, or None if they do."""
    get = facts.get
    if not facts:
        return "the guest wrote no facts"
    if fact == "lowmap":
        if get("runtime_map_identity") != "yes":
            return f"runtime map 1:1: {get('runtime_map_identity')}"
        if get("efimm_load") != "ok":
            return f"efimm did not load: {get('efimm_load')}"
    elif fact == "default":
        if (get("runtime_map_identity") or "").startswith(("yes", "absent")):
            return f"runtime map 1:1: {get('runtime_map_identity')}"
        if not (get("efimm_load") or "").startswith("refused"):
            return f"efimm loaded without efi=lowmap: {get('efimm_load')}"
    elif fact == "noruntime":
        if get("runtime_map_identity") != "absent":
            return f"runtime map: {get('runtime_map_identity')}"
        if "No such device" not in (get("efimm_load") or ""):
            return f"efimm did not refuse with ENODEV: {get('efimm_load')}"
    elif fact in ("cpl0", "cpl3"):
        if get("efimm_mode") != fact:
            return f"efimm's mode file says {get('efimm_mode')}"
        try:
            reads, forks = int(get("firmware_reads")), int(get("firmware_forks"))
        except (TypeError, ValueError):
            return f"no task count: {get('firmware_forks')}"
        if get("firmware_read_errors") != "0":
            return f"routed reads failed: {get('firmware_read_errors')} of {reads}"
        # No task per call in either mode (a few kernel threads may start
        # meanwhile).
        if forks >= reads // 4:
            return f"{reads} routed reads made {forks} tasks: a task per call"
        # At CPL3 one process maps runtime code, the same one throughout;
        # at CPL0 none.
        pids, half = get("firmware_code_pids"), get("firmware_code_pids_half")
        if fact == "cpl3" and (len((pids or "").split()) != 1 or pids == "none"):
            return f"processes mapping runtime code: {pids}: not at CPL3"
        if fact == "cpl3" and half != pids:
            return f"the firmware's task changed during the reads: {half}, then {pids}"
        if fact == "cpl0" and pids != "none":
            return f"processes mapping runtime code: {pids}: not at CPL0"
        # efimm.seal=0: the reads must have left the kernel's path open.
        if "efimm.seal=0" in (get("cmdline") or "").split() and get("sealed") != "0":
            return f"sealed with efimm.seal=0: the kernel said so {get('sealed')} times"
    elif fact == "sealed":
        if get("sealed") != "1":
            return f"the kernel said {get('sealed')} times that runtime services were sealed"
    elif fact == "pti":
        if get("pti") != "on":
            return "no pti flag in /proc/cpuinfo"
    elif fact == "kmemleak":
        if get("kmemleak") != "on":
            return "kmemleak is off"
    elif fact == "smp":
        if get("cpus") != "2":
            return f"{get('cpus')} CPUs"
    elif fact == "inject_fault":
        if get("inject_fault") != "yes":
            return "efimm has no inject_fault file"
    elif fact == "debug":
        # Lockdep still on (a report turns it off for the rest of the
        # boot) and KASAN's banner in the log.
        if get("debug_locks") != "1":
            return f"lockdep's debug_locks: {get('debug_locks')}"
        if get("kasan") != "1":
            return "KASAN did not say it was initialized"
    elif fact == "rt":
        if get("realtime") != "1":
            return f"realtime: {get('realtime')} (uname -v names no PREEMPT_RT)"
    elif fact == "lockdown":
        if (get("lockdown") or "absent") == "absent":
            return "no lockdown LSM"
    return None


def plan_results(planned, boot, programs, results, facts):
    """The boot's plan held against what ran: facts first, then one result
    per planned test (PLANNED: the tests the boot was to run), then
    whatever ran unplanned."""
    out = []
    for fact in boot.proves:
        why = fact_problem(fact, facts)
        out.append(Result(f"boot proves {fact}", why is None, detail=why or ""))
    ran = {p.name: p for p in programs}
    for test in planned:
        want = boot.results.get(test)
        prog = ran.get(test)
        why = None
        if prog is None:
            why = "did not run"
        elif not prog.finished:
            why = f"did not finish ({prog.results} results)"
        elif want is None:
            why = f"{prog.results} results, and boots.txt declares no count"
        elif prog.results != want:
            why = f"{prog.results} results, {want} planned"
        skipped = [r for r in results
                   if (r.skipped or r.xfail) and r.name.split("/")[0] == test]
        if why is None and skipped:
            why = f"{len(skipped)} skipped or XFAIL: {skipped[0].name} ({skipped[0].detail})"
        out.append(Result(f"plan: {test}", why is None,
                          detail=why or f"{prog.results} results"))
    extra = [name for name in ran if name not in planned]
    if extra:
        out.append(Result("plan: nothing unplanned ran", False, detail=" ".join(extra)))
    return out


def judge(run, outdir, boot, planned):
    ktap = read(f"{outdir}/results.ktap")
    console = read(f"{outdir}/console.log") or ""
    if ktap is None:
        results, problems, programs = [], [
            "no results: the guest did not boot or never ran the tests"], []
    else:
        results, problems, programs = parse(ktap)
    timing = read_boot_time(outdir)
    if timing.get("timed_out") == "1":
        problems.insert(0, f"the boot ran past its {timing.get('limit_s')} s limit; QEMU was ended")
    bad_lines = kernel_problems(console, read(f"{outdir}/dmesg.txt") or "")
    results.append(Result("kernel log clean", not bad_lines,
                          detail="; ".join(bad_lines[:3])))
    for p in problems:
        results.append(Result("run complete", False, detail=p))
    results.extend(plan_results(planned, boot, programs, results, read_facts(outdir)))
    return report(run, outdir, results, timing, program_times(outdir))


def report(run, outdir, results, timing, times=None):
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0, "XFAIL": 0}
    for r in results:
        counts[r.tag] += 1
        extra = f"  ({r.detail})" if r.detail else ""
        print(f"  {r.tag} {run}: {r.name}{extra}")
        if r.tag == "FAIL":
            for note in r.notes[-NOTES_SHOWN:]:
                print(f"    | {note}")
    if timing:
        slow = sorted((times or {}).items(), key=lambda kv: -kv[1])[:3]
        print(f"  time {run}: {timing.get('wall_s', '?')} s of its"
              f" {timing.get('limit_s', '?')} s limit"
              + ("; slowest: " + ", ".join(f"{n} {t} s" for n, t in slow) if slow else ""))
    if counts["FAIL"]:
        print(f"  see {outdir}/console.log and {outdir}/results.ktap")
    print(f"passed {counts['PASS']} failed {counts['FAIL']}"
          f" skipped {counts['SKIP']} xfail {counts['XFAIL']}")
    return counts["FAIL"] == 0


# What the kernel prints when it powers off or restarts by itself (vng's
# init does when the guest script ends): not the firmware's doing.
KERNEL_POWER_OFF = re.compile(r"reboot: (Power down|Restarting system)")
EFIMM_RESET = "ResetSystem(Shutdown) through efimm"
# QEMU's trace of what ended the machine (-trace qemu_system_shutdown_request,
# scripts/vm.sh): cause 6 is SHUTDOWN_CAUSE_GUEST_SHUTDOWN, the guest's
# write to the ACPI PM control register that OVMF's ResetSystem makes.
QEMU_SHUTDOWN = re.compile(r"qemu_system_shutdown_request (?:reason|cause)=(\d+)")
GUEST_SHUTDOWN = "6"


def never_requested(log, tag, what):
    """None if the guest's LOG holds TAG; else the one problem: the guest
    never did WHAT, with what the log says instead."""
    if log is not None and tag in log:
        return None
    detail = (log or "").strip()[:200]
    return [f"the guest never {what}" + (f": {detail}" if detail else "")]


def reset_problems(reset_log, console, timed_out):
    """Why a ResetSystem(shutdown) run did not show the firmware powering
    the machine off: efimm handed the call to the firmware, the kernel
    never powered off by itself, QEMU ended on the guest's power-off, by
    itself, after one boot."""
    if reset_log is None or "RESET-REQUESTED" not in reset_log:
        return ["the guest never asked for the reset"]
    problems = []
    if "RESET-RETURNED" in reset_log:
        problems.append("ResetSystem returned: " + reset_log.split("RESET-RETURNED", 1)[1].strip()[:200])
    if EFIMM_RESET not in console:
        problems.append(f"no '{EFIMM_RESET}' in the kernel log")
    m = KERNEL_POWER_OFF.search(console)
    if m:
        problems.append(f"the kernel powered off by itself ({m.group(0)})")
    problems += machine_end_problems(console, timed_out, "guest power-off", 1,
                                     "the firmware reset instead of powering off")
    return problems


def machine_end_problems(console, timed_out, power_off, boots, extra_boots):
    """Why QEMU did not end by itself with the guest's POWER_OFF after
    exactly BOOTS boots (EXTRA_BOOTS says what other counts mean)."""
    problems = []
    if timed_out:
        problems.append("QEMU did not exit: the runner ended it at the time limit")
    causes = QEMU_SHUTDOWN.findall(console)
    if causes != [GUEST_SHUTDOWN]:
        problems.append(f"QEMU's shutdown causes {causes}, not [{GUEST_SHUTDOWN}] ({power_off})")
    seen = console.count("Linux version")
    if seen != boots:
        problems.append(f"{seen} boots: {extra_boots}")
    return problems


EFI_SEALED = "efi: runtime services sealed"
EFI_RESET_REFUSED = ("failed to invoke the reset_system() runtime service",
                     "EFI runtime services are disabled")


def reboot_problems(reboot_log, console, timed_out):
    """Why a restart of a sealed boot (reboot(2) with reboot=efi) did not
    show the kernel refusing its own EFI reset and restarting the machine
    another way: sealed first, the kernel's ResetSystem refused, none made
    through efimm, a second boot, which powered off.

    After EFI, reboot=efi falls back to the BIOS reset vector, a restart
    QEMU does not see: the second boot says so and powers off."""
    missing = never_requested(reboot_log, "REBOOT-REQUESTED", "asked for the restart")
    if missing:
        return missing
    problems = []
    if "REBOOT-RETURNED" in reboot_log:
        problems.append("the restart returned")
    if "REBOOTED" not in reboot_log:
        problems.append("no second boot ran")
    if EFI_SEALED not in console:
        problems.append(f"no '{EFI_SEALED}' in the kernel log")
    if not all(s in console for s in EFI_RESET_REFUSED):
        problems.append("the kernel did not refuse its EFI reset: no '"
                        + "' / '".join(EFI_RESET_REFUSED) + "' in its log")
    if re.search(r"ResetSystem\(\w+\) through efimm", console):
        problems.append("efimm made a ResetSystem call")
    problems += machine_end_problems(console, timed_out, "the second boot's power-off", 2,
                                     "not 2")
    return problems


# scripts/guest-oops.sh's line in the kernel log, right before the call:
# the kernel's oops, and only it, comes after.
OOPS_MARK = "efimm-test: GetTime now jumps to 0"
# What the kernel says of efimm's thread jumping to 0 (the stray jump the
# firmware made), and how an oops=panic boot ends.
OOPS_START = "BUG: kernel NULL pointer dereference, address: 0000000000000000"
OOPS_SIGNS = (OOPS_START,
              "#PF: supervisor instruction fetch in kernel mode",
              "Comm: efimm ")
# oops=panic's panic, in process context.
OOPS_PANIC = re.compile(r"Kernel panic - not syncing: Fatal exception\s*$", re.M)
# efimm's line for an exception it contained (src/fault.rs).
EFIMM_CONTAINED = re.compile(r"efimm: \w+ took \w+ at ip")


def oops_problems(oops_log, console, timed_out):
    """Why a stray jump to 0 by the real firmware's GetTime, called through
    efimm at CPL0 (scripts/guest-oops.sh), was not an oops as it is on the
    kernel's own path: the guest armed it, the call never returned, efimm
    did not contain it, the kernel oopsed in efimm's thread at ip 0 and
    panicked (oops=panic), and the machine ended after one boot."""
    missing = never_requested(oops_log, "OOPS-REQUESTED", "made the call")
    if missing:
        return missing
    problems = []
    if "OOPS-RETURNED" in oops_log:
        problems.append("the call returned: " + oops_log.split("OOPS-RETURNED", 1)[1].strip()[:200])
    after = console.split(OOPS_MARK, 1)[1] if OOPS_MARK in console else ""
    if not after:
        problems.append(f"no '{OOPS_MARK}' in the kernel log")
    problems += [f"no '{s}' after it" for s in OOPS_SIGNS if after and s not in after]
    if after and not OOPS_PANIC.search(after):
        problems.append("no 'Kernel panic - not syncing: Fatal exception' after it")
    if EFIMM_CONTAINED.search(after):
        problems.append("efimm contained the jump: " + EFIMM_CONTAINED.search(after).group(0))
    if timed_out:
        problems.append("QEMU did not exit: the runner ended it at the time limit")
    seen = console.count("Linux version")
    if seen != 1:
        problems.append(f"{seen} boots, not 1")
    return problems


def before_oops(console):
    """The kernel log up to the expected oops: before scripts/guest-oops.sh's
    call, and from there to the oops's first line (a report in efimm's
    bracket before the fault counts)."""
    before, mark, after = console.partition(OOPS_MARK)
    return before + mark + after.partition(OOPS_START)[0]


# scripts/guest-rts-off.sh's line before the kernel's call, and what the
# kernel says of a page fault in the firmware on its own path.
RTS_OFF_MARK = "efimm-test: the firmware's GetTime now faults"
RTS_OFF_WARN = "Page fault caused by firmware at PA: 0x7ffffffff000"
RTS_OFF_DISABLED = "Froze efi_rts_wq and disabled EFI Runtime Services"
# The kernel's caller's status: EFI_ABORTED.
RTS_OFF_ABORTED = "status 0x8000000000000015"


def rts_off_problems(log, console, timed_out):
    """Why a page fault in the firmware on the kernel's own path (the real
    GetTime rewritten by efimm_hostile, scripts/guest-rts-off.sh) did not
    end as it must: the kernel warned, disabled runtime services and told
    its caller EFI_ABORTED; then efimm refused its own call, without
    entering the firmware (its call counter unchanged, and no fault of its
    own logged: the firmware's GetTime stayed armed), and unloaded."""
    missing = never_requested(log, "RTS-OFF-REQUESTED", "made the call")
    if missing:
        return missing
    problems = []
    m = re.search(r"^KERNEL-GET-TIME (.*)$", log, re.M)
    if not m or not m.group(1).startswith(RTS_OFF_ABORTED):
        problems.append(f"the kernel's GetTime gave '{m.group(1) if m else ''}', not EFI_ABORTED")
    after = console.split(RTS_OFF_MARK, 1)[1] if RTS_OFF_MARK in console else ""
    if not after:
        problems.append(f"no '{RTS_OFF_MARK}' in the kernel log")
    problems += [f"no '{s}' after it" for s in (RTS_OFF_WARN, RTS_OFF_DISABLED)
                 if after and s not in after]
    if "EFIMM-GET-TIME: refused" not in log:
        problems.append("efimm took the call")
    m = re.search(r"^EFIMM-CALLS (\d+) (\d+)$", log, re.M)
    if not m or m.group(1) != m.group(2):
        problems.append("efimm entered the firmware: " + (m.group(0) if m else "no call count"))
    if EFIMM_CONTAINED.search(after):
        problems.append("efimm called the firmware: " + EFIMM_CONTAINED.search(after).group(0))
    if "RTS-OFF-UNLOADED" not in log:
        problems.append("efimm did not unload")
    if timed_out:
        problems.append("QEMU did not exit: the runner ended it at the time limit")
    return problems


# The two reports the kernel makes of it: the fault handler's, and its
# caller's for the EFI_ABORTED that handler returns.
RTS_OFF_REPORTS = (RTS_OFF_WARN, "at __efi_queue_work+")


def outside_rts_off_warnings(console):
    """The kernel log after RTS_OFF_MARK without the two reports it must
    print (each from its "cut here" line to its end marker), and all of it
    before: any other report is a problem."""
    before, mark, after = console.partition(RTS_OFF_MARK)
    kept = []
    for i, block in enumerate(after.split("------------[ cut here ]------------")):
        report, end, rest = block.partition("---[ end trace")
        if i and end and any(r in report for r in RTS_OFF_REPORTS):
            kept.append(rest.partition("\n")[2])
        else:
            kept.append(block if i == 0 else "------------[ cut here ]------------" + block)
    return before + mark + "".join(kept)


# What efimm_hostile's probes (watch_kernel=1) write on QEMU's debug
# console when a task enters one of the kernel's own atomic wrappers.
def kernel_entry(wrapper, comm):
    return f"efimm_hostile: {wrapper} entered by {comm}"


def sysrq_problems(sysrq_log, console, timed_out, debugcon):
    """Why an emergency restart (sysrq-b, reboot=efi) with efimm routing
    did not end as it must: the reset handed to the kernel's path by the
    restarting task itself (it is inside sysrq's RCU read-side section,
    where it must not wait for efimm's thread), as efimm_hostile's probe on
    the kernel's ResetSystem wrapper recorded on QEMU's debug console
    (DEBUGCON), and the firmware's ResetSystem resetting the machine.

    QEMU (-no-reboot) exits on a guest's reset without a trace of it, so
    the reset shows as an exit by itself with no shutdown request, after
    one boot: a refused EFI reset falls back to the BIOS reset vector,
    which boots a second time, unseen by QEMU. The serial console's last
    lines are not required: the reset cuts them short (on PREEMPT_RT a
    thread prints it)."""
    missing = never_requested(sysrq_log, "SYSRQ-REQUESTED", "asked for the restart")
    if missing:
        return missing
    problems = []
    if "SYSRQ-RETURNED" in sysrq_log:
        problems.append("the restart returned")
    entry = kernel_entry("virt_efi_reset_system", "guest-sysrq.sh")
    if entry not in debugcon:
        problems.append(f"no '{entry}' on the debug console: efimm did not hand the reset off")
    if timed_out:
        problems.append("QEMU did not exit: the runner ended it at the time limit")
    causes = QEMU_SHUTDOWN.findall(console)
    if causes:
        problems.append(f"QEMU ended on a shutdown request (causes {causes}), not on the guest's reset")
    seen = console.count("Linux version")
    if seen != 1:
        problems.append(f"{seen} boots: the firmware's reset did not end the machine")
    return problems


# The pstore pair (scripts/guest-pstore.sh): the panic that efimm_hostile
# makes on request, and what pstore logs when a backend refuses a record.
PSTORE_PANIC = "Kernel panic - not syncing: efimm_hostile: panic requested"
PSTORE_PANIC_END = "---[ end Kernel panic - not syncing"
PSTORE_WRITE_ERROR = re.compile(r"pstore: backend \(efi_pstore\) writing error \((-?\d+)\)")
# Sealed, the kernel's path refuses with EFI_DEVICE_ERROR, -EIO.
PSTORE_SEALED_ERROR = "-5"
PSTORE_MARKER = re.compile(r"^PSTORE-REQUESTED (efimm-pstore-[0-9a-f-]+)$", re.M)
# A record as pstore shows it: "Panic#<n> Part<k>", Part1 the newest text.
PSTORE_PART = re.compile(r"^(Panic|Oops)#(\d+) Part(\d+)$", re.M)
# efi-pstore's variable names ("dump-type0-1-1-<time>-C"), as the firmware
# stores them: UTF-16LE, in the flash file the host kept.
PSTORE_FLASH_NAME = "dump-type".encode("utf-16-le")


def pstore_panics(read_log):
    """The panic records the read boot found, each as one text: its parts
    joined oldest first, so that lines a part boundary split are whole."""
    parts = {}
    for record in read_log.split("PSTORE-RECORD ")[1:]:
        m = PSTORE_PART.search(record)
        if m and m.group(1) == "Panic":
            text = record[m.end():].partition("PSTORE-READ-END")[0]
            parts.setdefault(int(m.group(2)), {})[int(m.group(3))] = text
    return ["".join(p[k] for k in sorted(p, reverse=True)) for p in parts.values()]


def pstore_problems(panic_log, console, debugcon, read_log, read_console, flash, sealed,
                    timed_out):
    """Why a panic made by a task while efimm routes the kernel's EFI
    users (scripts/guest-pstore.sh) did not end as it must: the panic came
    after the guest's marker, in one boot that ended by itself; efi-pstore's
    non-blocking QueryVariableInfo reached the kernel's path from the
    panicking task (efimm_hostile's probes, on QEMU's debug console
    DEBUGCON); then, unsealed, the SetVariable did too, the dump variables
    are in the firmware's flash and the next boot reads back a panic record
    that holds the marker; sealed, the kernel's path refused the query
    (pstore's "writing error (-5)"), no SetVariable followed and the flash
    holds no record at all. FLASH is the variable store's bytes, as the
    host kept them after both boots (None: missing)."""
    m = PSTORE_MARKER.search(panic_log or "")
    if not m:
        detail = (panic_log or "").strip()[:200]
        return ["the guest never asked for the panic" + (f": {detail}" if detail else "")]
    marker = m.group(1)
    problems = []
    if "PSTORE-RETURNED" in panic_log:
        problems.append("the kernel did not panic")
    after = console.split("efimm-test: " + marker, 1)[1] if marker in console else ""
    if not after:
        problems.append("the marker is not in the kernel log")
    elif PSTORE_PANIC not in after:
        problems.append(f"no '{PSTORE_PANIC}' after the marker")
    if sealed and EFI_SEALED not in console:
        problems.append(f"no '{EFI_SEALED}' in the kernel log")
    if timed_out:
        problems.append("QEMU did not exit: the runner ended it at the time limit")
    seen = console.count("Linux version")
    if seen != 1:
        problems.append(f"{seen} boots, not 1")
    query = kernel_entry("virt_efi_query_variable_info_nb", "guest-pstore.sh")
    setvar = kernel_entry("virt_efi_set_variable_nb", "guest-pstore.sh")
    if query not in debugcon:
        problems.append(f"no '{query}' on the debug console")
    if read_log is None or "PSTORE-READ-END" not in read_log:
        return problems + ["the next boot did not read the store"]
    if read_console.count("Linux version") != 1:
        problems.append(f"{read_console.count('Linux version')} boots to read the store, not 1")
    if flash is None:
        return problems + ["the host kept no flash file"]
    records = flash.count(PSTORE_FLASH_NAME)
    errors = PSTORE_WRITE_ERROR.findall(after)
    if sealed:
        if errors != [PSTORE_SEALED_ERROR]:
            problems.append(f"pstore's writing errors {errors}, not [{PSTORE_SEALED_ERROR}] (EFI_DEVICE_ERROR)")
        if setvar in debugcon:
            problems.append(f"'{setvar}' after a refused query")
        if records or marker in read_log:
            problems.append(f"the firmware stored the record: {records} dump variables in the flash")
    else:
        if errors:
            problems.append(f"pstore's writing error ({errors[0]})")
        if setvar not in debugcon:
            problems.append(f"no '{setvar}' on the debug console")
        if not records:
            problems.append("no dump variable in the firmware's flash")
        panics = pstore_panics(read_log)
        if not any(marker in p for p in panics):
            problems.append("the next boot read no panic record with the marker")
        elif not any(marker in p and PSTORE_PANIC in p for p in panics):
            problems.append("the panic record with the marker does not hold the panic")
    return problems


def outside_pstore_panic(console):
    """The panic boot's kernel log without the panic's own report, from its
    first line to the end of its stack dump: what came before the panic,
    and what efi-pstore's write at the panic made the kernel print."""
    before, mark, after = console.partition(PSTORE_PANIC)
    if not mark:
        return console
    report, end, rest = after.partition("</TASK>")
    return before + (rest.partition(PSTORE_PANIC_END)[0] if end else report)


def judge_pstore(run, outdir, sealed):
    timing = read_boot_time(outdir)
    second = read_boot_time(f"{outdir}/read")
    console = read(f"{outdir}/console.log") or ""
    read_console = read(f"{outdir}/read/console.log") or ""
    try:
        with open(f"{outdir}/OVMF_VARS_4M.fd", "rb") as f:
            flash = f.read()
    except FileNotFoundError:
        flash = None
    problems = pstore_problems(read(f"{outdir}/pstore.log"), console,
                               read(f"{outdir}/debugcon.log") or "",
                               read(f"{outdir}/read/pstore-read.log"), read_console, flash,
                               sealed, timing.get("timed_out") == "1")
    if second.get("timed_out") == "1":
        problems.append("the read boot's QEMU did not exit: the runner ended it at the time limit")
    # The pair's time is both boots'.
    for key in ("wall_s", "limit_s"):
        if timing.get(key, "").isdigit() and second.get(key, "").isdigit():
            timing[key] = str(int(timing[key]) + int(second[key]))
    bad = kernel_problems(outside_pstore_panic(console)) + kernel_problems(read_console)
    title = ("sealed, the kernel's path refuses efi-pstore's record of a panic" if sealed
             else "efi-pstore's record of a panic, handed to the kernel's path, is read back on the next boot")
    results = [Result(title, not problems, detail="; ".join(problems)),
               Result("kernel log clean", not bad, detail="; ".join(bad[:3]))]
    return report(run, outdir, results, timing)


# The boots that end the machine rather than run tests: what each leaves
# in OUTDIR, how it is judged, what passing means, and the part of the
# kernel log that must be clean.
RESTART_KINDS = {
    "reset": ("reset.log", reset_problems,
              "ResetSystem(shutdown) through efimm powers the VM off", str),
    "reboot": ("reboot.log", reboot_problems,
               "sealed, the kernel refuses its EFI reset and restarts the VM another way", str),
    "oops": ("oops.log", oops_problems,
             "a stray jump to 0 in the firmware oopses the kernel through efimm, as on the kernel's path",
             before_oops),
    "rts-off": ("rts-off.log", rts_off_problems,
                "a fault on the kernel's path disables runtime services, and efimm stops calling",
                outside_rts_off_warnings),
    "sysrq": ("sysrq.log", sysrq_problems,
              "sysrq-b with efimm routing: the firmware resets the VM through the kernel's path",
              str),
}


# The pstore pairs, and whether the first boot seals.
PSTORE_KINDS = {"pstore": False, "pstore-sealed": True}


def judge_restart(run, outdir, kind):
    log, problems_of, title, judged = RESTART_KINDS[kind]
    timing = read_boot_time(outdir)
    console = read(f"{outdir}/console.log") or ""
    args = (read(f"{outdir}/{log}"), console, timing.get("timed_out") == "1")
    if kind == "sysrq":
        args += (read(f"{outdir}/debugcon.log") or "",)
    problems = problems_of(*args)
    bad = kernel_problems(judged(console))
    results = [Result(title, not problems, detail="; ".join(problems)),
               Result("kernel log clean", not bad, detail="; ".join(bad[:3]))]
    return report(run, outdir, results, timing)


def main(argv):
    if len(argv) == 4 and argv[1] in ("judge", "judge-reset"):
        boot = plan.find(argv[2])
        if boot.kind in RESTART_KINDS:
            return 0 if judge_restart(argv[2], argv[3], boot.kind) else 1
        if boot.kind in PSTORE_KINDS:
            return 0 if judge_pstore(argv[2], argv[3], PSTORE_KINDS[boot.kind]) else 1
        planned = boot.tests(plan.installed_tests(os.environ["EFIMM_KSFT_INSTALL"]))
        return 0 if judge(argv[2], argv[3], boot, planned) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
