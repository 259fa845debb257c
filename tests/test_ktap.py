# SPDX-License-Identifier: GPL-2.0
"""Host unit tests of the VM-run judge (scripts/ktap.py)."""

import contextlib
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import ktap  # noqa: E402

# What run_kselftest.sh prints, then the guest's end marker.
GOOD = """TAP version 13
1..2
# timeout set to 120
# selftests: lowmap: layout.sh
# TAP version 13
# 1..2
# ok 1 efi window empty
# ok 2 runtime map is 1:1
# # Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
ok 1 selftests: lowmap: layout.sh
# timeout set to 45
# selftests: efivarfs: efivarfs.sh
# running test_create
ok 2 selftests: efivarfs: efivarfs.sh
# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
# EFIMM-END
"""

# The guest runs the runner a second time, for lockdown alone.
SECOND_RUN = """TAP version 13
1..1
# timeout set to 45
# selftests: lockdown: lockdown.sh
ok 1 selftests: lockdown: lockdown.sh
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0
"""


class ParseTest(unittest.TestCase):
    def test_complete_run_counts_subtests_and_plain_tests(self):
        results, problems, _ = ktap.parse(GOOD)
        self.assertEqual(problems, [])
        self.assertEqual([r.name for r in results], [
            "lowmap:layout.sh/efi window empty",
            "lowmap:layout.sh/runtime map is 1:1",
            "efivarfs:efivarfs.sh"])
        self.assertTrue(all(r.passed for r in results))

    def test_missing_end_marker_is_a_problem(self):
        _, problems, _ = ktap.parse(GOOD.replace("# EFIMM-END\n", ""))
        self.assertTrue(any("end marker" in p for p in problems))

    def test_short_run_is_a_problem(self):
        text = GOOD.split("# selftests: efivarfs")[0]
        _, problems, _ = ktap.parse(text)
        self.assertIn("1 of 2 planned tests reported", problems)

    def test_no_plan_means_runner_never_started(self):
        _, problems, _ = ktap.parse("")
        self.assertTrue(any("never started" in p for p in problems))

    def test_failed_subtest_is_reported_with_directive(self):
        text = GOOD.replace("# ok 2 runtime map is 1:1",
                            "# not ok 2 runtime map is 1:1 # 3 regions differ")
        text = text.replace("ok 1 selftests: lowmap: layout.sh",
                            "not ok 1 selftests: lowmap: layout.sh # exit=1")
        results, _, _ = ktap.parse(text)
        failed = [r for r in results if not r.passed]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0].detail, "3 regions differ")

    def test_a_failure_carries_the_lines_its_test_printed_before_it(self):
        text = GOOD.replace("# ok 2 runtime map is 1:1",
                            "# # 3 regions differ\n# # first at 0x1000\n"
                            "# not ok 2 runtime map is 1:1")
        results, _, _ = ktap.parse(text)
        self.assertEqual(results[0].notes, [])
        self.assertEqual(results[1].notes, ["3 regions differ", "first at 0x1000"])
        text = GOOD.replace("ok 2 selftests: efivarfs: efivarfs.sh",
                            "not ok 2 selftests: efivarfs: efivarfs.sh # exit=1")
        results, _, _ = ktap.parse(text)
        self.assertEqual(results[-1].notes, ["running test_create"])

    def test_report_shows_a_failures_last_lines_only(self):
        fail = ktap.Result("t", False, notes=[f"line {i}" for i in range(30)])
        good = ktap.Result("u", True, notes=["quiet"])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ktap.report("run", "/out", [fail, good], {})
        shown = [l for l in out.getvalue().splitlines() if l.startswith("    | ")]
        self.assertEqual(shown, [f"    | line {i}" for i in range(30 - ktap.NOTES_SHOWN, 30)])

    def test_program_failing_after_passing_subtests_counts_once_more(self):
        text = GOOD.replace("ok 1 selftests: lowmap: layout.sh",
                            "not ok 1 selftests: lowmap: layout.sh # exit=139")
        results, _, _ = ktap.parse(text)
        self.assertEqual([r.name for r in results if not r.passed], ["lowmap:layout.sh"])

    def test_two_runs_add_their_plans(self):
        end = "# EFIMM-END\n"
        text = GOOD.replace(end, SECOND_RUN + end)
        results, problems, _ = ktap.parse(text)
        self.assertEqual(problems, [])
        self.assertEqual(results[-1].name, "lockdown:lockdown.sh")

    def test_second_run_missing_its_result_is_a_problem(self):
        end = "# EFIMM-END\n"
        second = SECOND_RUN.replace("ok 1 selftests: lockdown: lockdown.sh\n", "")
        _, problems, _ = ktap.parse(GOOD.replace(end, second + end))
        self.assertIn("2 of 3 planned tests reported", problems)

    def test_xfail_is_a_failure(self):
        results, _, _ = ktap.parse(GOOD.replace("ok 2 selftests: efivarfs: efivarfs.sh",
                                             "ok 2 selftests: efivarfs: efivarfs.sh # XFAIL"))
        self.assertFalse(results[-1].passed)

    def test_subtest_xfail_is_no_pass(self):
        results, _, _ = ktap.parse(GOOD.replace("# ok 2 runtime map is 1:1",
                                                "# ok 2 runtime map is 1:1 # XFAIL known quirk"))
        self.assertFalse(results[1].passed)
        self.assertEqual(results[1].tag, "XFAIL")
        self.assertEqual(results[1].detail, "XFAIL known quirk")

    def test_program_short_of_its_own_plan_is_a_problem(self):
        _, problems, programs = ktap.parse(GOOD.replace("# 1..2\n", "# 1..5\n"))
        self.assertIn("lowmap:layout.sh: 2 of its 5 planned results reported", problems)
        self.assertEqual((programs[0].plan, programs[0].results), (5, 2))

    def test_timeout_names_the_test_that_ran(self):
        text = GOOD.split("ok 2 selftests: efivarfs")[0]
        _, problems, programs = ktap.parse(text)
        self.assertIn("end marker missing: the guest hung, panicked or timed out"
                      " while efivarfs:efivarfs.sh ran (0 results so far)", problems)
        self.assertFalse(programs[-1].finished)

    def test_skip_is_marked_and_no_pass(self):
        results, _, programs = ktap.parse(GOOD.replace("ok 2 selftests: efivarfs: efivarfs.sh",
                                                       "ok 2 selftests: efivarfs: efivarfs.sh # SKIP"))
        self.assertTrue(results[-1].skipped)
        self.assertEqual(results[-1].tag, "SKIP")
        self.assertEqual(programs[-1].results, 0)


BOOTS = """
results lowmap:layout.sh 2
boot pflash-x pflash efi=lowmap
	proves lowmap cpl3
	runs all
	except lockdown:lockdown.sh
	results efivarfs:efivarfs.sh 1
"""

FACTS = {"runtime_map_identity": "yes", "efimm_load": "ok", "efimm_mode": "cpl3",
         "firmware_reads": "40", "firmware_forks": "1", "firmware_read_errors": "0",
         "firmware_code_pids_half": "203", "firmware_code_pids": "203"}


class PlanTest(unittest.TestCase):
    def setUp(self):
        import plan
        self.boot = plan.parse(BOOTS)[0]
        self.planned = self.boot.tests(["lowmap:layout.sh", "efivarfs:efivarfs.sh",
                                        "lockdown:lockdown.sh"])

    def judged(self, text, facts=FACTS):
        results, _, programs = ktap.parse(text)
        return {r.name: r for r in ktap.plan_results(self.planned, self.boot, programs,
                                                     results, facts)}

    def test_plan_met(self):
        self.assertEqual(self.planned, ["lowmap:layout.sh", "efivarfs:efivarfs.sh"])
        got = self.judged(GOOD)
        self.assertTrue(all(r.passed for r in got.values()), got)
        self.assertEqual(len(got), 4)

    def test_fewer_results_than_declared_fail(self):
        text = GOOD.replace("# 1..2\n", "# 1..1\n").replace("# ok 2 runtime map is 1:1\n", "")
        self.assertEqual(self.judged(text)["plan: lowmap:layout.sh"].detail,
                         "1 results, 2 planned")

    def test_a_skipped_program_fails_its_plan(self):
        got = self.judged(GOOD.replace("ok 2 selftests: efivarfs: efivarfs.sh",
                                       "ok 2 selftests: efivarfs: efivarfs.sh # SKIP"))
        self.assertFalse(got["plan: efivarfs:efivarfs.sh"].passed)

    def test_a_skipped_subtest_fails_its_plan(self):
        got = self.judged(GOOD.replace("# ok 2 runtime map is 1:1",
                                       "# ok 2 runtime map is 1:1 # SKIP no map"))
        self.assertIn("1 skipped", got["plan: lowmap:layout.sh"].detail)

    def test_a_missing_test_fails(self):
        got = self.judged(GOOD.split("# timeout set to 45")[0] + "# EFIMM-END\n")
        self.assertEqual(got["plan: efivarfs:efivarfs.sh"].detail, "did not run")

    def test_an_unplanned_test_fails(self):
        end = "# EFIMM-END\n"
        got = self.judged(GOOD.replace(end, SECOND_RUN + end))
        self.assertEqual(got["plan: nothing unplanned ran"].detail, "lockdown:lockdown.sh")

    def test_an_undeclared_count_fails(self):
        del self.boot.results["efivarfs:efivarfs.sh"]
        self.assertIn("declares no count", self.judged(GOOD)["plan: efivarfs:efivarfs.sh"].detail)

    def test_a_boot_at_cpl0_is_no_cpl3_boot(self):
        got = self.judged(GOOD, dict(FACTS, efimm_mode="cpl0"))
        self.assertFalse(got["boot proves cpl3"].passed)
        # efimm's own word is not enough: the kernel must show a process
        # that maps the firmware's code.
        got = self.judged(GOOD, dict(FACTS, firmware_code_pids="none"))
        self.assertIn("not at CPL3", got["boot proves cpl3"].detail)
        # One, living across calls: not a task per call.
        got = self.judged(GOOD, dict(FACTS, firmware_forks="41"))
        self.assertIn("a task per call", got["boot proves cpl3"].detail)
        got = self.judged(GOOD, dict(FACTS, firmware_code_pids_half="190"))
        self.assertIn("task changed", got["boot proves cpl3"].detail)
        got = self.judged(GOOD, dict(FACTS, firmware_code_pids="203 204"))
        self.assertIn("not at CPL3", got["boot proves cpl3"].detail)
        # efimm.seal=0 must leave the kernel's path open.
        unsealed = dict(FACTS, cmdline="efi=lowmap efimm.mode=cpl3 efimm.seal=0")
        self.assertIn("sealed with efimm.seal=0",
                      self.judged(GOOD, dict(unsealed, sealed="1"))["boot proves cpl3"].detail)
        self.assertTrue(self.judged(GOOD, dict(unsealed, sealed="0"))["boot proves cpl3"].passed)
        # Nor tasks that made no call the reads could use.
        got = self.judged(GOOD, dict(FACTS, firmware_read_errors="40"))
        self.assertIn("routed reads failed", got["boot proves cpl3"].detail)

    def test_sealed_needs_the_kernels_word(self):
        self.assertIsNone(ktap.fact_problem("sealed", {"sealed": "1"}))
        self.assertIsNotNone(ktap.fact_problem("sealed", {"sealed": "0"}))
        self.assertIsNotNone(ktap.fact_problem("sealed", {"sealed": "2"}))

    def test_rt_needs_the_kernels_realtime_flag(self):
        self.assertIsNone(ktap.fact_problem("rt", {"realtime": "1"}))
        self.assertIn("PREEMPT_RT", ktap.fact_problem("rt", {"realtime": "0"}))
        self.assertIn("PREEMPT_RT", ktap.fact_problem("rt", {"cpus": "2"}))

    def test_debug_needs_lockdep_on_and_kasan(self):
        good = {"debug_locks": "1", "kasan": "1"}
        self.assertIsNone(ktap.fact_problem("debug", good))
        self.assertIn("debug_locks", ktap.fact_problem("debug", dict(good, debug_locks="0")))
        self.assertIn("debug_locks", ktap.fact_problem("debug", dict(good, debug_locks="absent")))
        self.assertIn("KASAN", ktap.fact_problem("debug", dict(good, kasan="0")))

    def test_noruntime_needs_no_map_and_an_enodev_refusal(self):
        good = {"runtime_map_identity": "absent",
                "efimm_load": "refused: insmod: ERROR: could not insert module: No such device"}
        self.assertIsNone(ktap.fact_problem("noruntime", good))
        self.assertIn("runtime map", ktap.fact_problem(
            "noruntime", dict(good, runtime_map_identity="yes")))
        self.assertIn("ENODEV", ktap.fact_problem("noruntime", dict(good, efimm_load="ok")))
        self.assertIn("ENODEV", ktap.fact_problem(
            "noruntime", dict(good, efimm_load="refused: Operation not supported")))

    def test_no_facts_prove_nothing(self):
        got = self.judged(GOOD, {})
        self.assertFalse(got["boot proves lowmap"].passed)

    def test_facts_tell_the_configurations_apart(self):
        self.assertIsNone(ktap.fact_problem("pti", {"pti": "on"}))
        self.assertIsNotNone(ktap.fact_problem("pti", {"pti": "off"}))
        cpl0 = dict(FACTS, efimm_mode="cpl0", firmware_code_pids_half="none",
                    firmware_code_pids="none")
        self.assertIsNone(ktap.fact_problem("cpl0", cpl0))
        self.assertIsNotNone(ktap.fact_problem("cpl0", dict(cpl0, firmware_code_pids="203")))
        self.assertIsNotNone(ktap.fact_problem("cpl0", dict(FACTS, efimm_mode="cpl0")))
        self.assertIsNone(ktap.fact_problem("default", {
            "runtime_map_identity": "no (0 of 9)",
            "efimm_load": "refused: Operation not supported"}))
        self.assertIsNotNone(ktap.fact_problem("default", FACTS))
        self.assertIsNotNone(ktap.fact_problem("kmemleak", {"kmemleak": "off"}))

    def test_bad_plans_are_refused(self):
        import plan
        for text in ("boot a qemu\n\truns all\n", "boot a bios\n",
                     "boot a bios\n\tproves warp\n\truns all\n",
                     "\truns all\n", "results x:y many\n",
                     "boot a bios\n\truns all\nboot a bios\n\truns all\n",
                     "boot a bios\n\tkind pstore\n", "boot a pflash\n\tkind panic\n",
                     "boot a pflash\n\tkind sysrq\n"):
            with self.assertRaises(plan.PlanError, msg=text):
                plan.parse(text)

    def test_list_keeps_empty_fields(self):
        # A boot without kernel options: check.sh splits the line on "|",
        # which, unlike a tab, never merges empty fields away.
        import contextlib
        import io
        import plan
        import tempfile
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "kselftest-list.txt"), "w") as f:
            f.write("efimm:load.sh\nefivarfs:efivarfs.sh\nlowmap:lowmap.sh\n")
        out = io.StringIO()
        os.environ["EFIMM_KSFT_INSTALL"] = d
        try:
            with contextlib.redirect_stdout(out):
                self.assertEqual(plan.main(["plan.py", "list", "bios-default"]), 0)
        finally:
            del os.environ["EFIMM_KSFT_INSTALL"]
        self.assertEqual(out.getvalue().rstrip("\n").split("|"), [
            "bios-default", "bios", "tests", "normal", "", "",
            "efimm:load.sh efivarfs:efivarfs.sh lowmap:lowmap.sh"])

    def test_stress_only_boots_are_not_make_checks(self):
        import plan
        text = ("boot a bios\n\truns all\n"
                "boot b bios\n\tkernel debug\n\tstress only\n\tproves debug\n\truns all\n")
        a, b = plan.parse(text)
        self.assertEqual((a.kernel, a.stress_only), ("normal", False))
        self.assertEqual((b.kernel, b.stress_only, b.proves), ("debug", True, ["debug"]))
        self.assertEqual(plan.parse("boot c bios\n\tsizes check\n\truns all\n")[0].sizes, "check")
        for bad in ("\tkernel nope\n", "\tstress\n", "\tkernel\n", "\tsizes full\n"):
            with self.assertRaises(plan.PlanError, msg=bad):
                plan.parse("boot a bios\n" + bad + "\truns all\n")
        # make check's default list leaves them out; make stress names them.
        self.assertTrue(any(b.stress_only and b.kernel == "debug" for b in plan.load()))

    def test_the_real_plan_parses(self):
        import plan
        boots = plan.load()
        self.assertTrue(any(b.kind == "reset" for b in boots))
        self.assertEqual(sorted(b.kind for b in boots if b.kind.startswith("pstore")),
                         ["pstore", "pstore-sealed"])
        for b in boots:
            for test in b.runs:
                if test != "all":
                    self.assertIn(test, b.results, f"{b.name}: {test} has no count")


class ConsoleTest(unittest.TestCase):
    def test_clean_log(self):
        self.assertEqual(ktap.kernel_problems("[    1.0] efi: EFI v2.7 by EDK II\n"), [])

    def test_problems_are_found(self):
        log = ("[ 2.0] ------------[ cut here ]------------\n"
               "[ 2.0] WARNING: CPU: 0 PID: 1 at mm/foo.c:1 bar+0x1/0x2\n"
               "[ 3.0] BUG: kernel NULL pointer dereference, address: 0\n"
               "[ 4.0] Kernel panic - not syncing: Fatal exception\n")
        self.assertEqual(len(ktap.kernel_problems(log)), 3)

    def test_debug_kernel_reports_are_found(self):
        # The first line of each report the debug kernel's checks print
        # (lib/Kconfig.debug, lib/Kconfig.kasan), as 7.2 prints them.
        reports = [
            "BUG: KASAN: slab-use-after-free in efimm_cpl3_run+0x1/0x2",
            "WARNING: possible circular locking dependency detected",
            "WARNING: suspicious RCU usage",
            "BUG: sleeping function called from invalid context at kernel/locking/mutex.c:1",
            "BUG: using smp_processor_id() in preemptible [00000000] code: efimm/1",
            "ODEBUG: free active (active state 0) object: 0x1 object type: hrtimer",
            "DEBUG_LOCKS_WARN_ON(1)",
            "INFO: lockdep is turned off.",
            "WARNING: inconsistent lock state",
        ]
        for line in reports:
            self.assertEqual(len(ktap.kernel_problems(f"[ 5.0] {line}\n")), 1, line)

    def test_a_user_tasks_gp_is_not_a_kernel_problem(self):
        log = ("[ 5.0] traps: efimm[6765] general protection fault ip:ffffffffc0020e "
               "sp:ffffffffc17fc8 error:0 in [efimm][348920e,ffffffffc00000+1000]\n"
               "[ 6.0] Oops: general protection fault, probably for non-canonical "
               "address 0xdead000000000100: 0000 [#1] SMP\n"
               "[ 7.0] general protection fault: 0000 [#1] SMP\n")
        self.assertEqual([l.split()[2] for l in ktap.kernel_problems(log)], ["Oops:", "general"])

    def test_truncated_command_line_is_a_problem(self):
        log = "EFI stub: ERROR: Command line is too long: truncated to 1961 bytes\n"
        self.assertEqual(len(ktap.kernel_problems(log)), 1)

    def test_test_output_quoting_a_fault_is_not_the_kernels(self):
        log = ("# #   last_cause general protection fault\n"
               "# # dmesg: [ 5.0] efimm: get_time took general_protection at ip 0x1\n"
               "[ 5.0] efimm: get_time took general_protection at ip 0x1\n")
        self.assertEqual(ktap.kernel_problems(log), [])

    def test_kernel_line_interleaved_into_test_output_is_found_in_dmesg(self):
        console = "# reading[ 6.0] BUG: kernel NULL pointer dereference, address: 8\n"
        dmesg = "[ 6.0] BUG: kernel NULL pointer dereference, address: 8\n"
        self.assertEqual(ktap.kernel_problems(console), [])
        self.assertEqual(len(ktap.kernel_problems(console, dmesg)), 1)


class JudgeTest(unittest.TestCase):
    """judge() on an OUTDIR as a boot leaves it."""

    def setUp(self):
        import plan
        import tempfile
        self.dir = tempfile.mkdtemp()
        self.boot = plan.parse(BOOTS)[0]
        self.write("results.ktap", GOOD)
        self.write("console.log", "[ 0.0] Linux version 7.2.13\n")
        self.write("facts.txt", "".join(f"{k} {v}\n" for k, v in FACTS.items()))
        self.write("boot-time.txt", "wall_s=300 limit_s=1800 timed_out=0 killed=0\n")
        self.write("timing.txt", "100 # selftests: lowmap: layout.sh\n"
                   "130 ok 1 selftests: lowmap: layout.sh\n"
                   "130 # selftests: efivarfs: efivarfs.sh\n"
                   "135 ok 2 selftests: efivarfs: efivarfs.sh\n")

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def judge(self):
        import contextlib
        import io
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ok = ktap.judge("x", self.dir, self.boot,
                            ["lowmap:layout.sh", "efivarfs:efivarfs.sh"])
        return ok, out.getvalue()

    def test_a_good_boot_passes_and_says_its_time(self):
        ok, out = self.judge()
        self.assertTrue(ok, out)
        self.assertIn("time x: 300 s of its 1800 s limit; slowest: lowmap:layout.sh 30 s,"
                      " efivarfs:efivarfs.sh 5 s", out)
        self.assertTrue(out.endswith("passed 8 failed 0 skipped 0 xfail 0\n"), out)

    def test_a_timed_out_boot_fails_and_names_the_test(self):
        self.write("results.ktap", GOOD.split("ok 2 selftests: efivarfs")[0])
        self.write("boot-time.txt", "wall_s=1800 limit_s=1800 timed_out=1 killed=5\n")
        ok, out = self.judge()
        self.assertFalse(ok)
        self.assertIn("ran past its 1800 s limit", out)
        self.assertIn("while efivarfs:efivarfs.sh ran", out)

    def test_skips_are_counted_apart(self):
        self.write("results.ktap", GOOD.replace("ok 2 selftests: efivarfs: efivarfs.sh",
                                                "ok 2 selftests: efivarfs: efivarfs.sh # SKIP"))
        ok, out = self.judge()
        self.assertFalse(ok)
        self.assertTrue(out.endswith("passed 6 failed 1 skipped 1 xfail 0\n"), out)


class ResetTest(unittest.TestCase):
    BOOT = "[    0.0] Linux version 7.2.13+ (root@host)\n"
    GOOD = (BOOT + "[    9.0] efimm: ResetSystem(Shutdown) through efimm\n"
            "qemu_system_shutdown_request reason=6\n")

    def test_power_off_passes(self):
        self.assertEqual(ktap.reset_problems("RESET-REQUESTED\n", self.GOOD, False), [])

    def test_returning_reset_fails(self):
        p = ktap.reset_problems("RESET-REQUESTED\nRESET-RETURNED: 1\n", self.GOOD, False)
        self.assertTrue(any("returned" in x for x in p))

    def test_reboot_instead_of_power_off_fails(self):
        console = self.GOOD.replace("reason=6", "reason=7") + self.BOOT
        p = ktap.reset_problems("RESET-REQUESTED\n", console, False)
        self.assertEqual(len(p), 2)

    def test_no_request_fails(self):
        self.assertEqual(len(ktap.reset_problems(None, self.GOOD, False)), 1)

    def test_the_kernels_own_power_off_is_not_the_firmwares(self):
        console = self.GOOD + "[   10.0] reboot: Power down\n"
        p = ktap.reset_problems("RESET-REQUESTED\n", console, False)
        self.assertEqual(p, ["the kernel powered off by itself (reboot: Power down)"])

    def test_the_runner_ending_qemu_is_no_power_off(self):
        console = self.GOOD.replace("reason=6", "reason=4")
        p = ktap.reset_problems("RESET-REQUESTED\n", console, True)
        self.assertEqual(len(p), 2)

    def test_efimm_must_have_made_the_call(self):
        console = self.BOOT + "qemu_system_shutdown_request reason=6\n"
        p = ktap.reset_problems("RESET-REQUESTED\n", console, False)
        self.assertEqual(len(p), 1)


class RebootTest(unittest.TestCase):
    BOOT = "[    0.0] Linux version 7.2.13+ (root@host)\n"
    GOOD = (BOOT + "[    9.0] efi: runtime services sealed: no firmware call in kernel mode until reboot\n"
            "[   10.0] efi: failed to invoke the reset_system() runtime service:\n"
            "[   10.0] EFI runtime services are disabled\n" + BOOT +
            "qemu_system_shutdown_request reason=6\n")
    LOG = "REBOOT-REQUESTED\nREBOOTED\n"

    def test_refused_then_restarted_passes(self):
        self.assertEqual(ktap.reboot_problems(self.LOG, self.GOOD, False), [])

    def test_a_reset_by_the_firmware_fails(self):
        # The kernel's path made the call: no refusal in its log, and QEMU
        # saw the firmware's reset.
        console = (self.BOOT + "[    9.0] efi: runtime services sealed\n"
                   "qemu_system_shutdown_request reason=7\n")
        p = ktap.reboot_problems("REBOOT-REQUESTED\n", console, False)
        self.assertEqual(len(p), 4)
        self.assertTrue(any("did not refuse" in x for x in p))

    def test_an_unsealed_boot_fails(self):
        console = self.GOOD.replace("runtime services sealed", "runtime services")
        self.assertEqual(len(ktap.reboot_problems(self.LOG, console, False)), 1)

    def test_the_runner_ending_qemu_fails(self):
        console = self.GOOD.replace("qemu_system_shutdown_request reason=6\n", "")
        self.assertEqual(len(ktap.reboot_problems(self.LOG, console, True)), 2)

    def test_not_requested_or_returned_fails(self):
        self.assertEqual(len(ktap.reboot_problems("REBOOT-NOT-REQUESTED: not sealed", self.GOOD, False)), 1)
        p = ktap.reboot_problems("REBOOT-REQUESTED\nREBOOT-RETURNED: 0\n", self.GOOD, False)
        self.assertEqual(p, ["the restart returned", "no second boot ran"])


class OopsTest(unittest.TestCase):
    BOOT = "[    0.0] Linux version 7.2.13+ (root@host)\n"
    MARK = "[    5.0] efimm-test: GetTime now jumps to 0\n"
    OOPS = ("[    5.1] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
            "[    5.1] #PF: supervisor instruction fetch in kernel mode\n"
            "[    5.1] Oops: Oops: 0010 [#1] SMP NOPTI\n"
            "[    5.1] CPU: 1 UID: 0 PID: 212 Comm: efimm Not tainted 7.2.13+ #1\n"
            "[    5.2] Kernel panic - not syncing: Fatal exception\n")
    GOOD = BOOT + MARK + OOPS
    LOG = "OOPS-REQUESTED\n"

    def test_the_oops_passes(self):
        self.assertEqual(ktap.oops_problems(self.LOG, self.GOOD, False), [])

    def test_a_contained_jump_fails(self):
        # What efimm did before it judged the ip: the call returned.
        console = (self.BOOT + self.MARK + "[    5.1] efimm: get_time took page_fault at ip 0x0"
                   " (address 0x0, error code 0x10): calls refused until re-armed\n")
        log = self.LOG + "OOPS-RETURNED: 1\nstate disarmed\n"
        p = ktap.oops_problems(log, console, False)
        self.assertEqual(len(p), 6, p)
        self.assertTrue(p[0].startswith("the call returned"))
        self.assertTrue(p[-1].startswith("efimm contained the jump"))

    def test_an_oops_elsewhere_fails(self):
        console = self.GOOD.replace("Comm: efimm", "Comm: kworker/1:1")
        self.assertEqual(ktap.oops_problems(self.LOG, console, False),
                         ["no 'Comm: efimm ' after it"])

    def test_an_oops_before_the_call_is_not_the_one(self):
        console = self.BOOT + self.OOPS + self.MARK
        self.assertEqual(len(ktap.oops_problems(self.LOG, console, False)), 4)
        self.assertTrue(ktap.kernel_problems(ktap.before_oops(console)))
        self.assertFalse(ktap.kernel_problems(ktap.before_oops(self.GOOD)))

    def test_a_panic_in_interrupt_is_not_the_one(self):
        console = self.GOOD.replace("Fatal exception", "Fatal exception in interrupt")
        self.assertEqual(len(ktap.oops_problems(self.LOG, console, False)), 1)

    def test_a_report_between_the_call_and_the_oops_counts(self):
        console = self.BOOT + self.MARK + "[    5.0] WARNING: CPU: 1 PID: 212 at kernel/x.c:1\n" + self.OOPS
        self.assertTrue(ktap.kernel_problems(ktap.before_oops(console)))

    def test_a_hang_or_a_second_boot_fails(self):
        self.assertEqual(len(ktap.oops_problems(self.LOG, self.GOOD, True)), 1)
        self.assertEqual(len(ktap.oops_problems(self.LOG, self.GOOD + self.BOOT, False)), 1)

    def test_not_requested_fails(self):
        p = ktap.oops_problems("OOPS-NOT-REQUESTED: cannot arm efimm_hostile\n", self.GOOD, False)
        self.assertEqual(p, ["the guest never made the call: OOPS-NOT-REQUESTED: cannot arm efimm_hostile"])


class PstoreTest(unittest.TestCase):
    MARKER = "efimm-pstore-599775c2-10aa-4381-a0fc-11299a86423b"
    LOG = f"PSTORE-REQUESTED {MARKER}\n"
    BOOT = "[    0.0] Linux version 7.2.13+ (root@host)\n"
    SEALED = "[   27.8] efi: runtime services sealed: no firmware call in kernel mode until reboot\n"
    PANIC = (f"[   28.5] efimm-test: {MARKER}\n"
             "[   28.7] Kernel panic - not syncing: efimm_hostile: panic requested\n"
             "[   28.7] CPU: 1 UID: 0 PID: 73 Comm: guest-pstore.sh Tainted: G O 7.2.13+ #2\n"
             "[   28.7] Call Trace:\n[   28.7]  <TASK>\n[   28.7]  panic+0x4f/0x50\n"
             "[   28.7]  </TASK>\n")
    END = "[   28.9] ---[ end Kernel panic - not syncing: efimm_hostile: panic requested ]---\n"
    REFUSED = "[   28.8] pstore: backend (efi_pstore) writing error (-5)\n"
    QUERY = "efimm_hostile: virt_efi_query_variable_info_nb entered by guest-pstore.sh\n"
    SET = "efimm_hostile: virt_efi_set_variable_nb entered by guest-pstore.sh\n"
    # Part1 is the newest text; the marker and the panic line in two parts.
    RECORD = ("PSTORE-RECORD /sys/fs/pstore/dmesg-efi_pstore-179665163801001\n"
              "Panic#1 Part1\n"
              "<0>[   28.7] Kernel panic - not syncing: efimm_hostile: panic requested\n"
              "PSTORE-RECORD /sys/fs/pstore/dmesg-efi_pstore-179665163802001\n"
              "Panic#1 Part2\n"
              f"<12>[   28.5] efimm-test: {MARKER}\n")
    READ_END = "PSTORE-READ-END\n"
    FLASH = b"\0" * 64 + "dump-type0-1-1-1796651638-C".encode("utf-16-le") + b"\xff" * 64
    EMPTY = b"\xff" * 128

    def problems(self, console, debugcon, read_log, flash, sealed, log=None, timed_out=False,
                 read_console=None):
        return ktap.pstore_problems(self.LOG if log is None else log, console, debugcon,
                                    read_log, self.BOOT if read_console is None else read_console,
                                    flash, sealed, timed_out)

    def test_the_record_read_back_passes(self):
        self.assertEqual(self.problems(self.BOOT + self.PANIC + self.END, self.QUERY + self.SET,
                                       self.RECORD + self.READ_END, self.FLASH, False), [])

    def test_sealed_refused_passes(self):
        self.assertEqual(self.problems(self.BOOT + self.SEALED + self.PANIC + self.REFUSED + self.END,
                                       self.QUERY, self.READ_END, self.EMPTY, True), [])

    def test_a_lost_record_fails(self):
        # A hand-off that fails the write (efimm's route_set_variable_nb
        # made to return EFI_DEVICE_ERROR): pstore says so, the flash and
        # the next boot have nothing.
        p = self.problems(self.BOOT + self.PANIC + self.REFUSED, self.QUERY, self.READ_END,
                          self.EMPTY, False)
        self.assertEqual(p, ["pstore's writing error (-5)",
                             "no 'efimm_hostile: virt_efi_set_variable_nb entered by guest-pstore.sh'"
                             " on the debug console",
                             "no dump variable in the firmware's flash",
                             "the next boot read no panic record with the marker"])

    def test_a_record_of_another_panic_fails(self):
        old = self.RECORD.replace(self.MARKER, "efimm-pstore-0")
        p = self.problems(self.BOOT + self.PANIC, self.QUERY + self.SET, old + self.READ_END,
                          self.FLASH, False)
        self.assertEqual(p, ["the next boot read no panic record with the marker"])
        oops = self.RECORD.replace("Panic#1", "Oops#1")
        p = self.problems(self.BOOT + self.PANIC, self.QUERY + self.SET, oops + self.READ_END,
                          self.FLASH, False)
        self.assertEqual(p, ["the next boot read no panic record with the marker"])
        part2 = self.RECORD.split("PSTORE-RECORD")[2]
        p = self.problems(self.BOOT + self.PANIC, self.QUERY + self.SET,
                          "PSTORE-RECORD" + part2 + self.READ_END, self.FLASH, False)
        self.assertEqual(p, ["the panic record with the marker does not hold the panic"])

    def test_parts_are_joined_oldest_first(self):
        self.assertEqual(ktap.pstore_panics(self.RECORD + self.READ_END),
                         [f"\n<12>[   28.5] efimm-test: {self.MARKER}\n"
                          "\n<0>[   28.7] Kernel panic - not syncing: efimm_hostile: panic requested\n"])

    def test_an_unsealed_boot_that_claims_the_seal_fails(self):
        # Seen: efimm loaded by insmod at cpl0 despite efimm.mode=cpl3 on
        # the command line; the kernel's path wrote 16 records.
        p = self.problems(self.BOOT + self.PANIC, self.QUERY + self.SET, self.RECORD + self.READ_END,
                          self.FLASH * 16, True)
        self.assertEqual(p, ["no 'efi: runtime services sealed' in the kernel log",
                             "pstore's writing errors [], not [-5] (EFI_DEVICE_ERROR)",
                             "'efimm_hostile: virt_efi_set_variable_nb entered by guest-pstore.sh'"
                             " after a refused query",
                             "the firmware stored the record: 16 dump variables in the flash"])

    def test_sealed_another_error_fails(self):
        # -EBUSY (efivars lock) or -EINVAL (EFI_NOT_READY: the runtime lock
        # held) are refusals too, but not the seal's.
        console = self.BOOT + self.SEALED + self.PANIC + self.REFUSED.replace("-5", "-16")
        p = self.problems(console, self.QUERY, self.READ_END, self.EMPTY, True)
        self.assertEqual(p, ["pstore's writing errors ['-16'], not [-5] (EFI_DEVICE_ERROR)"])

    def test_no_query_by_the_panicking_task_fails(self):
        p = self.problems(self.BOOT + self.PANIC, self.SET, self.RECORD + self.READ_END,
                          self.FLASH, False)
        self.assertEqual(p, ["no 'efimm_hostile: virt_efi_query_variable_info_nb entered by"
                             " guest-pstore.sh' on the debug console"])

    def test_no_panic_no_flash_or_no_second_boot_fails(self):
        p = self.problems(self.BOOT + self.PANIC.split("Kernel panic")[0], self.QUERY + self.SET,
                          self.RECORD + self.READ_END, self.FLASH, False,
                          log=self.LOG + "PSTORE-RETURNED: 0\n")
        self.assertEqual(p[:2], ["the kernel did not panic",
                                 "no 'Kernel panic - not syncing: efimm_hostile: panic requested'"
                                 " after the marker"])
        p = self.problems(self.BOOT + self.PANIC, self.QUERY + self.SET, None, self.FLASH, False,
                          timed_out=True)
        self.assertEqual(p, ["QEMU did not exit: the runner ended it at the time limit",
                             "the next boot did not read the store"])
        p = self.problems(self.BOOT * 2 + self.PANIC, self.QUERY + self.SET,
                          self.RECORD + self.READ_END, self.FLASH, False)
        self.assertEqual(p, ["2 boots, not 1"])
        p = self.problems(self.BOOT + self.PANIC, self.QUERY + self.SET, self.RECORD + self.READ_END,
                          self.FLASH, False, read_console=self.BOOT * 2)
        self.assertEqual(p, ["2 boots to read the store, not 1"])
        for sealed in (False, True):
            p = self.problems(self.BOOT + self.SEALED + self.PANIC, self.QUERY, self.READ_END,
                              None, sealed)
            self.assertEqual(p, ["the host kept no flash file"])

    def test_not_requested_fails(self):
        p = self.problems(self.BOOT, "", self.READ_END, None, False,
                          log="PSTORE-NOT-REQUESTED: efimm does not route\n")
        self.assertEqual(p, ["the guest never asked for the panic: PSTORE-NOT-REQUESTED: efimm does not route"])

    def test_the_log_around_the_panics_report_is_judged(self):
        clean = self.BOOT + self.PANIC + self.REFUSED + self.END
        self.assertFalse(ktap.kernel_problems(ktap.outside_pstore_panic(clean)))
        before = self.BOOT + "[    5.0] WARNING: CPU: 1 PID: 9 at kernel/x.c:1\n" + self.PANIC + self.END
        self.assertTrue(ktap.kernel_problems(ktap.outside_pstore_panic(before)))
        # What efi-pstore's write at the panic made the kernel print.
        during = (self.BOOT + self.PANIC
                  + "[   28.8] BUG: sleeping function called from invalid context at kernel/x.c:1\n"
                  + self.END)
        self.assertTrue(ktap.kernel_problems(ktap.outside_pstore_panic(during)))


class SysrqTest(unittest.TestCase):
    BOOT = "[    0.0] Linux version 7.2.13+ (root@host)\n"
    MARK = "[   20.1] efimm-test: sysrq-b with efimm routing\n"
    RESET = "[   20.2] sysrq: Resetting\n"
    GOOD = BOOT + MARK + RESET
    HANDED_OFF = "efimm_hostile: virt_efi_reset_system entered by guest-sysrq.sh\n"
    LOG = "SYSRQ-REQUESTED\n"

    def problems(self, console, debugcon=None, log=None, timed_out=False):
        return ktap.sysrq_problems(self.LOG if log is None else log, console, timed_out,
                                   self.HANDED_OFF if debugcon is None else debugcon)

    def test_the_firmwares_reset_passes(self):
        self.assertEqual(self.problems(self.GOOD), [])
        # On the RT kernel the reset cut the console in the marker.
        self.assertEqual(self.problems(self.BOOT + "[   18.8] efimm-test: sysrq-b w"), [])

    def test_a_reset_by_efimms_thread_fails(self):
        # Seen without efimm's RCU check, on the RT kernel: the caller
        # waited for efimm's thread inside sysrq's RCU read-side section,
        # and the thread, not the kernel's path, reset the machine.
        console = (self.GOOD
                   + "[   16.8] WARNING: kernel/rcu/tree_plugin.h:332 at rcu_note_context_switch+0x51/0x4a0\n")
        self.assertEqual(self.problems(console, debugcon=""),
                         ["no 'efimm_hostile: virt_efi_reset_system entered by guest-sysrq.sh' on the"
                          " debug console: efimm did not hand the reset off"])
        self.assertTrue(ktap.kernel_problems(console))
        thread = self.HANDED_OFF.replace("by guest-sysrq.sh", "by efimm")
        self.assertEqual(len(self.problems(self.GOOD, debugcon=thread)), 1)

    def test_the_kernels_fallback_fails(self):
        # A refused EFI reset: the BIOS reset vector boots again, unseen by
        # QEMU, and the second boot powers off.
        console = self.GOOD + self.BOOT + "qemu_system_shutdown_request cause=6\n"
        self.assertEqual(self.problems(console),
                         ["QEMU ended on a shutdown request (causes ['6']), not on the guest's reset",
                          "2 boots: the firmware's reset did not end the machine"])

    def test_no_restart_fails(self):
        p = self.problems(self.BOOT + self.MARK, debugcon="", log=self.LOG + "SYSRQ-RETURNED: 0\n",
                          timed_out=True)
        self.assertEqual(p, ["the restart returned",
                             "no 'efimm_hostile: virt_efi_reset_system entered by guest-sysrq.sh' on the"
                             " debug console: efimm did not hand the reset off",
                             "QEMU did not exit: the runner ended it at the time limit"])

    def test_not_requested_fails(self):
        p = self.problems(self.GOOD, log="SYSRQ-NOT-REQUESTED: efimm does not route\n")
        self.assertEqual(p, ["the guest never asked for the restart: SYSRQ-NOT-REQUESTED: efimm does not route"])


class RtsOffTest(unittest.TestCase):
    MARK = "[   33.8] efimm-test: the firmware's GetTime now faults\n"
    CUT = "[   34.3] ------------[ cut here ]------------\n"
    FAULT = (CUT + "[   34.3] [Firmware Bug]: Page fault caused by firmware at PA: 0x7ffffffff000\n"
             "[   34.3] WARNING: arch/x86/platform/efi/quirks.c:797 at"
             " efi_crash_gracefully_on_page_fault+0x49/0x100, CPU#0: kworker/u8:4/45\n"
             "[   34.3] Call Trace:\n"
             "[   34.4] ---[ end trace 0000000000000000 ]---\n"
             "[   34.4] efi: Froze efi_rts_wq and disabled EFI Runtime Services\n")
    ABORTED = (CUT + "[   34.4] WARNING: drivers/firmware/efi/runtime-wrappers.c:355 at"
               " __efi_queue_work+0xdc/0x130, CPU#1: cat/82\n"
               "[   34.4] Call Trace:\n"
               "[   34.4] ---[ end trace 0000000000000000 ]---\n")
    GOOD = "[    0.0] Linux version 7.2.13+\n" + MARK + FAULT + ABORTED + "[   37.4] efimm: unloading\n"
    LOG = ("RTS-OFF-REQUESTED\n"
           "KERNEL-GET-TIME status 0x8000000000000015 0000-00-00 00:00:00\n"
           "EFIMM-GET-TIME: refused\nEFIMM-CALLS 0 0\nRTS-OFF-UNLOADED\n")

    def test_efimm_that_stops_passes(self):
        self.assertEqual(ktap.rts_off_problems(self.LOG, self.GOOD, False), [])
        self.assertEqual(ktap.kernel_problems(ktap.outside_rts_off_warnings(self.GOOD)), [])

    def test_efimm_that_goes_on_calling_fails(self):
        # Seen with efimm's two checks of EFI_RUNTIME_SERVICES removed.
        log = self.LOG.replace("refused", "accepted").replace("CALLS 0 0", "CALLS 0 1")
        console = self.GOOD + ("[   35.0] efimm: get_time took page_fault at ip 0x3f6a1234"
                               " (address 0x7ffffffff000): calls refused until re-armed\n")
        p = ktap.rts_off_problems(log, console, False)
        self.assertEqual(len(p), 3, p)
        self.assertEqual(p[0], "efimm took the call")
        self.assertTrue(p[2].startswith("efimm called the firmware"))

    def test_the_kernel_must_disable_and_abort(self):
        console = self.GOOD.replace("efi: Froze efi_rts_wq and disabled EFI Runtime Services\n", "")
        p = ktap.rts_off_problems(self.LOG.replace("0x8000000000000015", "0x0"), console, False)
        self.assertEqual(p, ["the kernel's GetTime gave 'status 0x0 0000-00-00 00:00:00', not EFI_ABORTED",
                             "no 'Froze efi_rts_wq and disabled EFI Runtime Services' after it"])

    def test_only_the_two_expected_reports_are_allowed(self):
        other = self.CUT + "[   36.0] WARNING: mm/x.c:1 at y+0x1/0x2\n[   36.0] ---[ end trace 0 ]---\n"
        for console in (self.GOOD + other,
                        other + self.MARK + self.FAULT + self.ABORTED,
                        self.GOOD.replace("__efi_queue_work", "efimm_call")):
            self.assertTrue(ktap.kernel_problems(ktap.outside_rts_off_warnings(console)), console)
        # No marker: nothing is allowed.
        self.assertTrue(ktap.kernel_problems(ktap.outside_rts_off_warnings(self.FAULT)))

    def test_not_made_or_not_unloaded_fails(self):
        self.assertEqual(ktap.rts_off_problems("RTS-OFF-NOT-REQUESTED: insmod efimm failed\n",
                                               self.GOOD, False),
                         ["the guest never made the call: RTS-OFF-NOT-REQUESTED: insmod efimm failed"])
        p = ktap.rts_off_problems(self.LOG.replace("RTS-OFF-UNLOADED\n", ""), self.GOOD, True)
        self.assertEqual(p, ["efimm did not unload",
                             "QEMU did not exit: the runner ended it at the time limit"])


if __name__ == "__main__":
    unittest.main()
