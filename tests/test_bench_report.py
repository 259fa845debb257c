# SPDX-License-Identifier: GPL-2.0
"""Host unit tests of make bench's report (scripts/bench_report.py)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
import bench_report  # noqa: E402

# A 4K page at 0x1000 and a 2M page at 0x200000, plus kernel-half lines,
# in the x86 ptdump format.
FOUR_LEVEL = """\
---[ User Space ]---
0x0000000000000000-0x0000000000001000           4K                               pte
0x0000000000001000-0x0000000000002000           4K     RW                     NX pte
0x0000000000002000-0x0000000000200000        2040K                               pte
0x0000000000200000-0x0000000000400000           2M     ro         PSE         x  pmd
0x0000000000400000-0x0000000040000000        1020M                               pmd
0xffff888000000000-0xffff888000200000           2M     RW         PSE     GLB NX pmd
"""

# The same under LA57, with a kernel-half address only 5-level paging has
# and efimm's null call page at the top of the lower half.
FIVE_LEVEL = """\
0x0000000000001000-0x0000000000002000           4K     RW                     NX pte
0x0000000000200000-0x0000000000400000           2M     ro         PSE         x  pmd
0x0001000000000000-0x00ff000000000000       65024T                               pgd
0x00ffffffffc00000-0x00ffffffffc01000           4K     ro                     x  pte
0xff11000000200000-0xff11000000800000           6M     RW         PSE     GLB NX pmd
"""


class PageTableShapeTest(unittest.TestCase):
    def test_four_level_counts_pgd_pud_pmd_and_one_pte_table(self):
        shape = bench_report.page_table_shape(FOUR_LEVEL)
        self.assertEqual(shape, {"leaf_entries": 2, "pt_pages": 4, "paging_levels": 4})

    def test_five_level_adds_the_p4d_table(self):
        shape = bench_report.page_table_shape(FIVE_LEVEL, own_pages=1)
        self.assertEqual(shape, {"leaf_entries": 2, "pt_pages": 5, "paging_levels": 5})

    def test_the_null_call_page_costs_a_table_per_level_when_counted(self):
        shape = bench_report.page_table_shape(FIVE_LEVEL)
        self.assertEqual(shape["leaf_entries"], 3)
        self.assertEqual(shape["pt_pages"], 9)

    def test_own_pages_must_be_4k_pages_at_the_top(self):
        with self.assertRaises(ValueError):
            bench_report.page_table_shape(FOUR_LEVEL, own_pages=1)


def bench_block(service, path, samples):
    return (f"service {service}\npath {path}\ncalls {len(samples)}\nerrors 0\n"
            f"tlb.cr3_loads {2 * len(samples) if path == 'kernel' else 0}\n"
            "samples_ns " + " ".join(str(s) for s in samples) + "\n")


class AggregateTest(unittest.TestCase):
    def test_blocks_pool_into_one_distribution_per_path(self):
        with tempfile.TemporaryDirectory() as raw:
            blocks = {
                "get_time.efimm.1": range(100, 200),
                "get_time.efimm.2": range(200, 300),
                "get_time.kernel.1": range(300, 400),
                "get_time.kernel.2": range(400, 500),
            }
            for name, samples in blocks.items():
                service, path, _ = name.split(".")
                with open(os.path.join(raw, name), "w") as f:
                    f.write(bench_block(service, path, list(samples)))
            counters = "kernel.get_time.max_preempt_off_ns 7000\n"
            out = bench_report.aggregate(raw, counters)["get_time"]
        self.assertEqual(out["efimm"]["calls"], 200)
        self.assertEqual(out["efimm"]["median_ns"], 199)
        self.assertEqual(out["efimm"]["p99_ns"], 297)
        self.assertEqual(out["kernel"]["median_ns"], 399)
        self.assertEqual(out["kernel"]["cr3_loads_per_call"], 2.0)
        self.assertEqual(out["efimm"]["cr3_loads_per_call"], 0.0)
        self.assertEqual(out["kernel"]["max_preempt_off_ns"], 7000)
        self.assertNotIn("max_preempt_off_ns", out["efimm"])
        self.assertEqual(out["ratio_median"], round(199 / 399, 3))

    def test_cpl3_is_a_third_path_compared_with_the_kernel(self):
        with tempfile.TemporaryDirectory() as raw:
            for name, samples in {"null.cpl3.1": range(500, 600),
                                  "get_time.kernel.1": range(100, 200),
                                  "get_time.cpl3.1": range(800, 900)}.items():
                service, path, _ = name.split(".")
                with open(os.path.join(raw, name), "w") as f:
                    f.write(bench_block(service, path, list(samples)))
            out = bench_report.aggregate(raw, "cpl3.get_time.max_preempt_off_ns 3000\n")
        self.assertEqual(out["get_time"]["cpl3"]["median_ns"], 849)
        self.assertEqual(out["get_time"]["cpl3"]["max_preempt_off_ns"], 3000)
        self.assertEqual(out["get_time"]["cpl3_ratio_median"], round(849 / 149, 3))
        self.assertNotIn("ratio_median", out["get_time"])
        # The null call has no kernel path to compare with.
        self.assertNotIn("cpl3_ratio_median", out["null"])




class RtLatenessTest(unittest.TestCase):
    def write(self, d, name, text):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)

    def rtlat(self, d, name, max_ns, p9999_ns=None):
        self.write(d, name, f"wakeups 100\nmax_lateness_ns {max_ns}\n"
                   f"p9999_lateness_ns {p9999_ns or max_ns}\ncpu0.max_lateness_ns {max_ns}\n")

    def test_ratios_against_the_kernel_and_idle(self):
        with tempfile.TemporaryDirectory() as d:
            self.rtlat(d, "idle", 2000, 1500)
            self.rtlat(d, "set_variable_4k.kernel", 400000, 300000)
            self.rtlat(d, "set_variable_4k.efimm", 4000, 3000)
            self.write(d, "set_variable_4k.counters",
                       "efimm.set_variable.max_preempt_off_ns 50\n"
                       "kernel.set_variable.max_preempt_off_ns 100\n"
                       "efimm.set_variable.calls 16\n"
                       "kernel.watched_max_preempt_off_ns 20000\n")
            rt = bench_report.rt_lateness(d)
        sv = rt["services"]["set_variable_4k"]
        self.assertEqual(rt["idle_ns"], 2000)
        self.assertEqual(rt["idle_p9999_ns"], 1500)
        self.assertEqual(sv["p9999_ns"], {"kernel": 300000, "efimm": 3000})
        self.assertEqual(sv["ratio_to_kernel"], 0.01)
        self.assertEqual(sv["ratio_to_idle"], 2.0)
        self.assertEqual(sv["max_preempt_off_ns"], {"efimm": 50, "kernel": 20000})
        self.assertEqual(sv["preempt_off_ratio"], 0.0025)

    def test_cpl3_lateness_and_preemption_against_the_kernel(self):
        with tempfile.TemporaryDirectory() as d:
            self.rtlat(d, "idle", 2000)
            self.rtlat(d, "set_variable_4k.kernel", 400000)
            self.rtlat(d, "set_variable_4k.efimm", 4000)
            self.rtlat(d, "set_variable_4k.cpl3", 8000)
            self.write(d, "set_variable_4k.counters",
                       "efimm.set_variable.max_preempt_off_ns 50\n"
                       "kernel.watched_max_preempt_off_ns 20000\n"
                       "cpl3.set_variable.max_preempt_off_ns 10\n")
            rt = bench_report.rt_lateness(d)
        sv = rt["services"]["set_variable_4k"]
        self.assertEqual(sv["cpl3_ratio_to_kernel"], 0.02)
        self.assertEqual(sv["cpl3_max_preempt_off_ns"], 10)
        self.assertEqual(sv["cpl3_preempt_off_ratio"], 0.0005)

    def test_a_path_missing_gives_no_ratio(self):
        with tempfile.TemporaryDirectory() as d:
            self.rtlat(d, "idle", 2000)
            self.rtlat(d, "spin.efimm", 3000)
            self.write(d, "spin.efimm.bench", "service spin\ncalls 20\nmedian_ns 90000000\n")
            self.write(d, "spin.counters", "kernel.watched_max_preempt_off_ns 0\n")
            rt = bench_report.rt_lateness(d)
        self.assertEqual(rt["services"]["spin"]["ratio_to_idle"], 1.5)
        self.assertEqual(rt["services"]["spin"]["call_median_ns"], {"efimm": 90000000})
        self.assertNotIn("ratio_to_kernel", rt["services"]["spin"])
        self.assertNotIn("preempt_off_ratio", rt["services"]["spin"])

    def test_output_without_the_maximum_is_an_error(self):
        with self.assertRaises(ValueError):
            bench_report.lateness("wakeups 0\n")


if __name__ == "__main__":
    unittest.main()


class MergeTest(unittest.TestCase):
    def test_a_subset_replaces_its_runs_and_keeps_the_others(self):
        previous = {"pflash": {"x": 1}, "bios": {"x": 2}, "pflash-rt": {"x": 3}}
        results, kept = bench_report.merge(previous, {"pflash-rt": {"x": 4}})
        self.assertEqual(results, {"pflash": {"x": 1}, "bios": {"x": 2}, "pflash-rt": {"x": 4}})
        self.assertEqual(kept, ["bios", "pflash"])

    def test_a_whole_bench_keeps_nothing(self):
        results, kept = bench_report.merge({"pflash": {"x": 1}}, {"pflash": {"x": 2}})
        self.assertEqual((results, kept), ({"pflash": {"x": 2}}, []))
