#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The boots of make check and make stress, and what each must show.

selftests/boots.txt declares them; scripts/check.sh boots them and
scripts/ktap.py judges each against its plan. Usage:

    plan.py list [NAME...]   one line per boot, fields separated by "|"
                             (empty ones too): name, firmware, kind,
                             kernel (normal, debug or rt), test sizes (check,
                             or those of the run), kernel options, tests;
                             without names, make check's boots
"""

import os
import shlex
import sys
from dataclasses import dataclass, field

BOOTS_TXT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "selftests", "boots.txt")

# What a boot may claim to prove, checked against scripts/guest-facts.sh.
FACTS = ("lowmap", "default", "noruntime", "cpl0", "cpl3", "pti", "kmemleak",
         "smp", "inject_fault", "lockdown", "sealed", "debug", "rt")
KERNELS = ("normal", "debug", "rt")
# tests: kselftests; the others end the machine (scripts/check.sh says how).
KINDS = ("tests", "reset", "reboot", "oops", "sysrq", "rts-off", "pstore", "pstore-sealed")


@dataclass
class Boot:
    name: str
    firmware: str
    options: list
    kind: str = "tests"
    kernel: str = "normal"
    # Booted by make stress only (its RUNS), never by make check.
    stress_only: bool = False
    # "check": make check's test sizes even in make stress; "" the run's.
    sizes: str = ""
    proves: list = field(default_factory=list)
    runs: list = field(default_factory=list)
    excepts: list = field(default_factory=list)
    # TEST -> results it must report in this boot.
    results: dict = field(default_factory=dict)

    def tests(self, installed):
        """The tests this boot runs, in the order installed lists them."""
        if self.runs == ["all"]:
            chosen = [t for t in installed if t not in self.excepts]
        else:
            chosen = list(self.runs)
        return chosen


class PlanError(Exception):
    pass


def parse(text, where="boots.txt"):
    """Return the boots of a boots.txt, in order."""
    boots, defaults = [], {}
    boot = None
    for num, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        words = line.split()
        indented = raw[0] in " \t"
        key, args = words[0], words[1:]

        def bad(why):
            return PlanError(f"{where}:{num}: {why}: {raw.strip()}")

        if not indented:
            boot = None
            if key == "boot":
                if len(args) < 2 or args[1] not in ("pflash", "bios"):
                    raise bad("boot NAME pflash|bios [OPTION...]")
                boot = Boot(args[0], args[1], args[2:])
                if any(b.name == boot.name for b in boots):
                    raise bad("boot named twice")
                boots.append(boot)
            elif key == "results":
                if len(args) != 2 or not args[1].isdigit():
                    raise bad("results SUITE:TEST N")
                defaults[args[0]] = int(args[1])
            else:
                raise bad("unknown line")
            continue
        if boot is None:
            raise bad("indented line outside a boot")
        if key == "kind":
            if len(args) != 1 or args[0] not in KINDS:
                raise bad(f"kind {'|'.join(KINDS)}")
            boot.kind = args[0]
        elif key == "kernel":
            if len(args) != 1 or args[0] not in KERNELS:
                raise bad(f"kernel {'|'.join(KERNELS)}")
            boot.kernel = args[0]
        elif key == "stress":
            if args != ["only"]:
                raise bad("stress only")
            boot.stress_only = True
        elif key == "sizes":
            if args != ["check"]:
                raise bad("sizes check")
            boot.sizes = "check"
        elif key == "proves":
            unknown = [a for a in args if a not in FACTS]
            if unknown:
                raise bad(f"unknown fact {unknown[0]} (known: {' '.join(FACTS)})")
            boot.proves += args
        elif key == "runs":
            boot.runs += args
        elif key == "except":
            boot.excepts += args
        elif key == "results":
            if len(args) != 2 or not args[1].isdigit():
                raise bad("results SUITE:TEST N")
            boot.results[args[0]] = int(args[1])
        else:
            raise bad("unknown line")
    for b in boots:
        if b.kind == "tests" and not b.runs:
            raise PlanError(f"{where}: boot {b.name} runs no test")
        if b.kind.startswith("pstore") and b.firmware != "pflash":
            raise PlanError(f"{where}: boot {b.name}: a pstore pair needs pflash's flash")
        if b.kind == "sysrq" and "reboot=efi" not in b.options:
            raise PlanError(f"{where}: boot {b.name}: sysrq-b reaches the firmware only with reboot=efi")
        for test, n in defaults.items():
            b.results.setdefault(test, n)
    return boots


def load(path=BOOTS_TXT):
    with open(path) as f:
        return parse(f.read(), path)


def find(name, path=BOOTS_TXT):
    for b in load(path):
        if b.name == name:
            return b
    raise PlanError(f"no boot named {name} in {path}")


def installed_tests(ksft_install):
    """SUITE:TEST names as kselftest-list.txt lists them."""
    with open(os.path.join(ksft_install, "kselftest-list.txt")) as f:
        return [l.strip() for l in f if l.strip()]


def main(argv):
    if len(argv) >= 2 and argv[1] == "list":
        installed = installed_tests(os.environ["EFIMM_KSFT_INSTALL"])
        boots = load()
        names = argv[2:] or [b.name for b in boots if not b.stress_only]
        by_name = {b.name: b for b in boots}
        for name in names:
            if name not in by_name:
                print(f"plan: no boot named {name} in {BOOTS_TXT}", file=sys.stderr)
                return 1
            b = by_name[name]
            tests = b.tests(installed) if b.kind == "tests" else []
            missing = [t for t in tests if t not in installed]
            if missing:
                print(f"plan: boot {name} runs {missing[0]}, which is not installed",
                      file=sys.stderr)
                return 1
            print("|".join([b.name, b.firmware, b.kind, b.kernel, b.sizes,
                            shlex.join(b.options), " ".join(tests)]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
