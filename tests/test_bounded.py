# SPDX-License-Identifier: GPL-2.0
"""Host tests of the time-limited runner every VM boot goes through
(scripts/bounded.py): no process of a boot outlives it."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BOUNDED = os.path.join(os.path.dirname(__file__), "..", "scripts", "bounded.py")


def alive_with(marker):
    """Pids whose command line holds marker."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


class BoundedTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        # A tree like vng's: the command, a child that leaves the process
        # group and ignores SIGTERM (as a QEMU in a session of its own would
        # look to timeout(1)), and a double-forked daemon.
        self.marker = f"efimm-bounded-{os.getpid()}-{time.monotonic_ns()}"
        self.script = os.path.join(self.dir, self.marker)
        with open(self.script, "w") as f:
            f.write("#!/bin/bash\n"
                    "setsid bash -c 'trap \"\" TERM; sleep 600; :' &\n"
                    "( ( sleep 600; : ) & ) &\n"
                    "sleep \"$1\"\n"
                    "exit \"$2\"\n")
        os.chmod(self.script, 0o755)
        self.record = os.path.join(self.dir, "record")

    def tearDown(self):
        for pid in alive_with(self.marker):
            os.kill(pid, signal.SIGKILL)

    def run_bounded(self, limit, sleep, status):
        return subprocess.run(
            [sys.executable, BOUNDED, "--grace", "1", "--record", self.record,
             str(limit), self.script, str(sleep), str(status)],
            capture_output=True, text=True, timeout=60)

    def read_record(self):
        with open(self.record) as f:
            return dict(kv.split("=") for kv in f.read().split())

    def test_time_limit_ends_the_whole_tree(self):
        res = self.run_bounded(2, 600, 0)
        self.assertEqual(124, res.returncode)
        self.assertEqual([], alive_with(self.marker))
        self.assertIn("ran past its 2 s limit", res.stderr)
        rec = self.read_record()
        self.assertEqual("1", rec["timed_out"])
        # The command, its setsid child and the daemon, with their sleeps.
        self.assertGreaterEqual(int(rec["killed"]), 3)

    def test_normal_exit_keeps_status_and_ends_leftovers(self):
        res = self.run_bounded(60, 0.5, 7)
        self.assertEqual(7, res.returncode)
        self.assertEqual([], alive_with(self.marker))
        self.assertIn("left behind", res.stderr)
        rec = self.read_record()
        self.assertEqual("0", rec["timed_out"])
        self.assertLess(int(rec["wall_s"]), 60)

    def test_stopping_the_runner_ends_the_tree(self):
        proc = subprocess.Popen(
            [sys.executable, BOUNDED, "--grace", "1", "600", self.script, "600", "0"],
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while len(alive_with(self.marker)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(128 + signal.SIGTERM, proc.wait(timeout=30))
        self.assertEqual([], alive_with(self.marker))


VM_SH = os.path.join(os.path.dirname(__file__), "..", "scripts", "vm.sh")
LIB_SH = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "scripts", "lib.sh"))


class VmScriptTest(unittest.TestCase):
    """scripts/vm.sh stopped by a signal (a run stopped by hand) ends its
    boot's processes too, QEMU included, as its time limit would."""

    def setUp(self):
        self.cache = tempfile.mkdtemp()
        self.marker = f"efimm-vm-{os.getpid()}-{time.monotonic_ns()}"
        image = os.path.join(self.cache, "build", "arch", "x86", "boot")
        os.makedirs(image)
        open(os.path.join(image, "bzImage"), "w").close()
        os.makedirs(os.path.join(self.cache, "venv", "bin"))
        # vng, with a QEMU in a session of its own that ignores SIGTERM.
        vng = os.path.join(self.cache, "venv", "bin", "vng")
        with open(vng, "w") as f:
            f.write("#!/bin/bash\n"
                    f"setsid bash -c 'trap \"\" TERM; exec -a {self.marker} sleep 600' &\n"
                    "sleep 600\n")
        os.chmod(vng, 0o755)

    def tearDown(self):
        for pid in alive_with(self.marker):
            os.kill(pid, signal.SIGKILL)

    def stop(self, argv, **extra_env):
        # The fake cache holds the normal kernel of the project's own tree:
        # a make check run with KSRC= or EFIMM_KERNEL= must not redirect it.
        env = {k: v for k, v in os.environ.items() if k not in ("KSRC", "EFIMM_KERNEL")}
        env.update(EFIMM_CACHE=self.cache, VM_TIMEOUT="300", **extra_env)
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not alive_with(self.marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not alive_with(self.marker):
            # Seen once, in a fresh clone's make check, not since.
            proc.kill()
            _, err = proc.communicate()
            console = os.path.join(self.cache, "out", "console.log")
            self.fail(f"the fake QEMU never started: exit {proc.returncode}, stderr {err[-500:]!r},"
                      " console "
                      + (repr(open(console).read()[-500:]) if os.path.exists(console) else "none"))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=60), 143)
        proc.stderr.close()
        self.assertEqual(alive_with(self.marker), [])

    def test_a_stopped_boot_leaves_nothing_running(self):
        self.stop(["bash", VM_SH, "boot", "bios", os.path.join(self.cache, "out"), "", "true"])

    def test_check_sizes_keep_the_runs_timeout(self):
        # make stress's debug boots run make check's sizes on a slow
        # kernel: the sizes go, the run's timeout stays.
        out = os.path.join(self.cache, "out")
        self.stop(["bash", VM_SH, "boot", "bios", out, "", "true"],
                  VM_TEST_SIZES="check", EFIMM_TEST_TIMEOUT="5400", EFIMM_FUZZ_CASES="100000")
        knobs = open(os.path.join(out, "knobs.env")).read()
        self.assertEqual(knobs, "export EFIMM_TEST_TIMEOUT=5400\n")

    def test_a_stopped_check_stops_its_boot(self):
        # scripts/check.sh's way of running a boot; a plain call would
        # leave vm.sh, and its QEMU, running up to the boot's limit.
        check = os.path.join(self.cache, "check.sh")
        with open(check, "w") as f:
            f.write(f". {LIB_SH}\n"
                    f"stoppable bash {VM_SH} boot bios {self.cache}/out '' true || true\n"
                    "echo RETURNED\n")
        self.stop(["bash", check])


def default_signals():
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


class StoppableTest(unittest.TestCase):
    """scripts/lib.sh's stoppable: the command's status, or its end first
    when the script is stopped."""

    def run_script(self, body):
        return subprocess.run(["bash", "-c", f". {LIB_SH}\n{body}"], capture_output=True,
                              text=True, timeout=30)

    def test_the_status_is_the_commands(self):
        r = self.run_script("stoppable bash -c 'exit 3' || echo \"status $?\"\nstoppable true\n"
                            "echo done")
        self.assertEqual(r.stdout, "status 3\ndone\n")

    def test_each_signal_ends_the_command_then_the_script(self):
        for sig, status in ((signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)):
            self.stop_script("", sig, status)

    def test_a_command_that_ignores_term_gets_kill(self):
        # TERM stays ignored across the exec, as in a command that traps it.
        self.stop_script('trap \\"\\" TERM; ', signal.SIGTERM, 143, STOPPABLE_GRACE="1")

    def stop_script(self, setup, sig, status, **extra_env):
        """Stop a script inside stoppable with SIG: it exits STATUS, prints
        nothing more, and its command (SETUP, then sleep) is gone."""
        pidfile = tempfile.mktemp()
        # bash cannot trap a signal ignored at its start: nohup's HUP,
        # or INT in a background job, as this test may itself run.
        proc = subprocess.Popen(["bash", "-c", f". {LIB_SH}\n"
                                 f"stoppable bash -c \"{setup}echo \\$\\$ >{pidfile}; "
                                 "exec sleep 600\"\necho RETURNED"],
                                stdout=subprocess.PIPE, text=True, preexec_fn=default_signals,
                                env=dict(os.environ, **extra_env))
        deadline = time.monotonic() + 20
        while not (os.path.exists(pidfile) and open(pidfile).read().strip()) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(open(pidfile).read())
        proc.send_signal(sig)
        self.assertEqual(proc.wait(timeout=30), status, sig)
        self.assertEqual(proc.stdout.read(), "", sig)
        proc.stdout.close()
        os.unlink(pidfile)
        with self.assertRaises(ProcessLookupError, msg=sig):
            os.kill(child, 0)


if __name__ == "__main__":
    unittest.main()
