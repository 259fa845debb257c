# SPDX-License-Identifier: GPL-2.0
"""Host unit tests of the VM-run judge (scripts/ktap.py)."""

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
        results, problems = ktap.parse(GOOD)
        self.assertEqual(problems, [])
        self.assertEqual([r.name for r in results], [
            "lowmap:layout.sh/efi window empty",
            "lowmap:layout.sh/runtime map is 1:1",
            "efivarfs:efivarfs.sh"])
        self.assertTrue(all(r.passed for r in results))

    def test_missing_end_marker_is_a_problem(self):
        _, problems = ktap.parse(GOOD.replace("# EFIMM-END\n", ""))
        self.assertTrue(any("end marker" in p for p in problems))

    def test_short_run_is_a_problem(self):
        text = GOOD.split("# selftests: efivarfs")[0]
        _, problems = ktap.parse(text)
        self.assertIn("1 of 2 planned tests reported", problems)

    def test_no_plan_means_runner_never_started(self):
        _, problems = ktap.parse("")
        self.assertTrue(any("never started" in p for p in problems))

    def test_failed_subtest_is_reported_with_directive(self):
        text = GOOD.replace("# ok 2 runtime map is 1:1",
                            "# not ok 2 runtime map is 1:1 # 3 regions differ")
        text = text.replace("ok 1 selftests: lowmap: layout.sh",
                            "not ok 1 selftests: lowmap: layout.sh # exit=1")
        results, _ = ktap.parse(text)
        failed = [r for r in results if not r.passed]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0].detail, "3 regions differ")

    def test_program_failing_after_passing_subtests_counts_once_more(self):
        text = GOOD.replace("ok 1 selftests: lowmap: layout.sh",
                            "not ok 1 selftests: lowmap: layout.sh # exit=139")
        results, _ = ktap.parse(text)
        self.assertEqual([r.name for r in results if not r.passed], ["lowmap:layout.sh"])

    def test_two_runs_add_their_plans(self):
        end = "# EFIMM-END\n"
        text = GOOD.replace(end, SECOND_RUN + end)
        results, problems = ktap.parse(text)
        self.assertEqual(problems, [])
        self.assertEqual(results[-1].name, "lockdown:lockdown.sh")

    def test_second_run_missing_its_result_is_a_problem(self):
        end = "# EFIMM-END\n"
        second = SECOND_RUN.replace("ok 1 selftests: lockdown: lockdown.sh\n", "")
        _, problems = ktap.parse(GOOD.replace(end, second + end))
        self.assertIn("2 of 3 planned tests reported", problems)

    def test_xfail_is_a_failure(self):
        results, _ = ktap.parse(GOOD.replace("ok 2 selftests: efivarfs: efivarfs.sh",
                                             "ok 2 selftests: efivarfs: efivarfs.sh # XFAIL"))
        self.assertFalse(results[-1].passed)

    def test_subtest_xfail_keeps_its_reason(self):
        results, _ = ktap.parse(GOOD.replace("# ok 2 runtime map is 1:1",
                                             "# ok 2 runtime map is 1:1 # XFAIL known quirk"))
        self.assertTrue(results[1].passed)

    def test_skip_is_marked(self):
        results, _ = ktap.parse(GOOD.replace("ok 2 selftests: efivarfs: efivarfs.sh",
                                             "ok 2 selftests: efivarfs: efivarfs.sh # SKIP"))
        self.assertTrue(results[-1].skipped)


class ConsoleTest(unittest.TestCase):
    def test_clean_log(self):
        self.assertEqual(ktap.kernel_problems("[    1.0] efi: EFI v2.7 by EDK II\n"), [])

    def test_problems_are_found(self):
        log = ("[ 2.0] ------------[ cut here ]------------\n"
               "[ 2.0] WARNING: CPU: 0 PID: 1 at mm/foo.c:1 bar+0x1/0x2\n"
               "[ 3.0] BUG: kernel NULL pointer dereference, address: 0\n"
               "[ 4.0] Kernel panic - not syncing: Fatal exception\n")
        self.assertEqual(len(ktap.kernel_problems(log)), 3)

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


class ResetTest(unittest.TestCase):
    BOOT = "[    0.0] Linux version 7.2.13+ (root@host)\n"

    def test_power_off_passes(self):
        self.assertEqual(ktap.reset_problems("RESET-REQUESTED\n", self.BOOT, False), [])

    def test_returning_reset_fails(self):
        p = ktap.reset_problems("RESET-REQUESTED\nRESET-RETURNED: 1\n", self.BOOT, False)
        self.assertTrue(any("returned" in x for x in p))

    def test_reboot_instead_of_power_off_fails(self):
        p = ktap.reset_problems("RESET-REQUESTED\n", self.BOOT * 2, True)
        self.assertEqual(len(p), 2)

    def test_no_request_fails(self):
        self.assertEqual(len(ktap.reset_problems(None, self.BOOT, False)), 1)


if __name__ == "__main__":
    unittest.main()
