#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw bench runs of make bench into a table, JSON and a chart.

Usage: bench_report.py OUTDIR RESULTSDIR MODE...
  OUTDIR/<mode>/raw/<service>.<path>.<block> are debugfs bench reports.
"""

import json
import os
import sys
from collections import defaultdict

PATHS = ("efimm", "kernel")
# efimm with the firmware at CPL3 (mode=cpl3), measured after the others.
CPL3 = "cpl3"


def parse_report(text):
    values, samples = {}, []
    for line in text.splitlines():
        key, _, rest = line.partition(" ")
        if key == "samples_ns":
            samples = [int(x) for x in rest.split()]
        elif rest:
            values[key] = rest.strip()
    return values, samples


def percentile(sorted_samples, q):
    return sorted_samples[(len(sorted_samples) - 1) * q // 100]


def preempt_off(counters):
    """{(path, service): longest preemption-off stretch of one call, ns}."""
    out = {}
    for line in counters.splitlines():
        key, _, value = line.partition(" ")
        parts = key.split(".")
        if len(parts) == 3 and parts[2] == "max_preempt_off_ns":
            out[(parts[0], parts[1])] = int(value)
    return out


def aggregate(rawdir, counters):
    """{service: {path: stats}} over all blocks."""
    longest = preempt_off(counters)
    acc = defaultdict(lambda: defaultdict(lambda: {"samples": [], "sums": defaultdict(int)}))
    for name in sorted(os.listdir(rawdir)):
        service, path, _block = name.rsplit(".", 2)
        with open(os.path.join(rawdir, name)) as f:
            values, samples = parse_report(f.read())
        a = acc[service][path]
        a["samples"].extend(samples)
        for key in ("calls", "errors"):
            a["sums"][key] += int(values.get(key, 0))
        for key, v in values.items():
            if key.startswith("tlb."):
                a["sums"][key] += int(v)
    out = {}
    for service, paths in acc.items():
        out[service] = {}
        for path, a in paths.items():
            s = sorted(a["samples"])
            calls = max(a["sums"]["calls"], 1)
            stats = {
                "calls": a["sums"]["calls"],
                "errors": a["sums"]["errors"],
                "median_ns": percentile(s, 50),
                "p99_ns": percentile(s, 99),
                "mean_ns": sum(s) // len(s),
            }
            if (path, service) in longest:
                stats["max_preempt_off_ns"] = longest[(path, service)]
            for key, v in a["sums"].items():
                if key.startswith("tlb."):
                    stats[key[4:] + "_per_call"] = round(v / calls, 4)
            out[service][path] = stats
        if all(p in out[service] for p in PATHS):
            e, k = out[service]["efimm"], out[service]["kernel"]
            out[service]["ratio_median"] = round(e["median_ns"] / k["median_ns"], 3)
            out[service]["ratio_p99"] = round(e["p99_ns"] / k["p99_ns"], 3)
        if CPL3 in out[service] and "kernel" in out[service]:
            c, k = out[service][CPL3], out[service]["kernel"]
            out[service]["cpl3_ratio_median"] = round(c["median_ns"] / k["median_ns"], 3)
            out[service]["cpl3_ratio_p99"] = round(c["p99_ns"] / k["p99_ns"], 3)
    return out


def lateness(text):
    """The worst wake-up lateness a cyclictest run printed
    (scripts/guest-cyclictest.sh), and the 99.99th percentile, ns."""
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        values[key] = value
    if "max_lateness_ns" not in values:
        raise ValueError("no max_lateness_ns in the cyclictest summary")
    return int(values["max_lateness_ns"]), int(values.get("p9999_lateness_ns", 0))


def watched_max(counters):
    """The longest preemption-off stretch of any watched kernel-path call."""
    for line in counters.splitlines():
        key, _, value = line.partition(" ")
        if key == "kernel.watched_max_preempt_off_ns":
            return int(value)
    return None


def rt_lateness(rtdir):
    """Worst SCHED_FIFO wake-up lateness at idle and per service and path.

    rtdir holds cyclictest summaries: idle, and <service>.<path> while the service
    ran in a loop through the path (set_variable_4k: 4 KiB efivarfs writes,
    which are SetVariable calls), and <service>.counters, efimm's counters
    over both paths' runs: efimm's longest preemption-off stretch per
    service, and the kernel path's over every call its probes saw.
    """
    idle, idle_p9999 = lateness(read(os.path.join(rtdir, "idle")))
    out = {"idle_ns": idle, "idle_p9999_ns": idle_p9999, "services": {}}
    for name in sorted(os.listdir(rtdir)):
        if name == "idle" or name.endswith(".counters"):
            continue
        if name.endswith(".bench"):
            service, path, _ = name.rsplit(".", 2)
            values, _ = parse_report(read(os.path.join(rtdir, name)))
            out["services"].setdefault(service, {}).setdefault("call_median_ns", {})[path] = int(
                values["median_ns"])
            continue
        service, path = name.rsplit(".", 1)
        worst, p9999 = lateness(read(os.path.join(rtdir, name)))
        paths = out["services"].setdefault(service, {})
        paths[path] = worst
        paths.setdefault("p9999_ns", {})[path] = p9999
    for service, paths in out["services"].items():
        if "efimm" in paths:
            paths["ratio_to_idle"] = round(paths["efimm"] / out["idle_ns"], 3)
        if all(p in paths for p in PATHS):
            paths["ratio_to_kernel"] = round(paths["efimm"] / paths["kernel"], 3)
        if CPL3 in paths and "kernel" in paths:
            paths["cpl3_ratio_to_kernel"] = round(paths[CPL3] / paths["kernel"], 3)
        counters_path = os.path.join(rtdir, service + ".counters")
        if not os.path.exists(counters_path):
            continue
        counters = read(counters_path)
        # The service the bench called: set_variable_4k writes through
        # efivarfs, get_time_spin calls a GetTime rewritten into a loop.
        called = service.removesuffix("_4k").removesuffix("_spin")
        off = {"efimm": preempt_off(counters).get(("efimm", called)),
               "kernel": watched_max(counters) if "kernel" in paths else None}
        if all(off.values()):
            paths["max_preempt_off_ns"] = off
            paths["preempt_off_ratio"] = round(off["efimm"] / off["kernel"], 5)
            cpl3 = preempt_off(counters).get((CPL3, called))
            if cpl3 is not None:
                paths["cpl3_max_preempt_off_ns"] = cpl3
                paths["cpl3_preempt_off_ratio"] = round(cpl3 / off["kernel"], 5)
    return out


def paging_levels(ptdump):
    """5 if the dump has addresses only LA57 makes canonical, else 4."""
    for line in ptdump.splitlines():
        fields = line.split()
        if fields and fields[0].startswith("0x") and "-" in fields[0]:
            start = int(fields[0].split("-")[0], 16)
            if 1 << 47 <= start < 0xffff_8000_0000_0000:
                return 5
    return 4


def page_table_shape(ptdump, own_pages=0):
    """Leaf entries and page-table pages of the lower half of a ptdump.

    The top own_pages mapped 4K pages of the lower half are left out:
    efimm's null call page, which it maps above all firmware.
    """
    levels = paging_levels(ptdump)
    top_shift = 12 + 9 * levels
    level_shift = {"pgd": top_shift - 9, "p4d": 39, "pud": 30, "pmd": 21, "pte": 12}
    lower_half_end = 1 << (top_shift - 1)
    mapped = []
    for line in ptdump.splitlines():
        fields = line.split()
        if not fields or "-" not in fields[0] or not (" RW " in line or " ro " in line):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if start < lower_half_end:
            mapped.append((start, end, level_shift[fields[-1]]))
    mapped.sort()
    for _ in range(own_pages):
        start, end, shift = mapped.pop()
        if shift != 12:
            raise ValueError(f"top mapping at {start:#x} is not a 4K page")
        if end - start > 4096:
            mapped.append((start, end - 4096, shift))
    leaves = 0
    # One table below each present entry of every level above the leaf's.
    tables = {shift: set() for shift in range(21, top_shift - 9 + 1, 9)}
    for start, end, shift in mapped:
        leaves += (end - start) >> shift
        for addr in range(start, end, 1 << shift):
            for table_shift in tables:
                if table_shift > shift:
                    tables[table_shift].add(addr >> table_shift)
    return {"leaf_entries": leaves, "pt_pages": 1 + sum(len(t) for t in tables.values()),
            "paging_levels": levels}


def read(path):
    with open(path) as f:
        return f.read()


def report(outdir, resultsdir, modes):
    results = {}
    for mode in modes:
        d = os.path.join(outdir, mode)
        module = dict(l.split() for l in read(os.path.join(d, "module.txt")).splitlines())
        summary = dict(l.split() for l in read(os.path.join(d, "efimm_summary.txt")).splitlines())
        results[mode] = {
            "services": aggregate(os.path.join(d, "raw"), read(os.path.join(d, "counters.txt"))),
            "rt_lateness": rt_lateness(os.path.join(d, "rt")),
            "module_load_ms": round(int(module["load_ns"]) / 1e6, 1),
            "page_tables": {
                "efimm": page_table_shape(read(os.path.join(d, "efimm_ptdump.txt")),
                                          int(summary.get("null_call_pages", 0))),
                "efi_mm": page_table_shape(read(os.path.join(d, "efi_mm_ptdump.txt"))),
            },
        }
    os.makedirs(resultsdir, exist_ok=True)
    path = os.path.join(resultsdir, "results.json")
    previous = {}
    if os.path.exists(path):
        with open(path) as f:
            previous = json.load(f)
    results, kept = merge(previous, results)
    for mode in kept:
        print(f"{mode}: kept from the last bench (RUNS= did not measure it)")
    with open(path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    print_table(results)
    chart(results, os.path.join(resultsdir, "results.png"))


def merge(previous, measured):
    """The runs just measured, and those of an earlier bench that this one
    (a RUNS= subset) did not measure: (results, the names kept)."""
    kept = sorted(set(previous) - set(measured))
    return {**{m: previous[m] for m in kept}, **measured}, kept


def print_table(results):
    for mode, r in results.items():
        kernel = "PREEMPT_RT kernel, efi=runtime" if mode.endswith("-rt") else "efi=lowmap"
        print(f"\n{mode.removesuffix('-rt')} mode (TCG), {kernel}; "
              f"module load {r['module_load_ms']} ms")
        print(f"{'service':26} {'path':6} {'calls':>6} {'err':>4} {'median us':>10} "
              f"{'p99 us':>9} {'ratio':>6} {'cr3/call':>9} {'full/call':>9} {'glob/call':>9} "
              f"{'max preempt-off us':>18}")
        for service, paths in r["services"].items():
            for path in PATHS + (CPL3,):
                s = paths.get(path)
                if not s:
                    continue
                ratio_key = {"efimm": "ratio_median", CPL3: "cpl3_ratio_median"}.get(path)
                ratio = f"{paths[ratio_key]:.2f}" if ratio_key in paths else ""
                # Only services are counted; the null call has no counter.
                preempt = (f"{s['max_preempt_off_ns'] / 1000:.1f}"
                           if "max_preempt_off_ns" in s else "-")
                print(f"{service:26} {path:6} {s['calls']:>6} {s['errors']:>4} "
                      f"{s['median_ns'] / 1000:>10.1f} {s['p99_ns'] / 1000:>9.1f} {ratio:>6} "
                      f"{s.get('cr3_loads_per_call', 0):>9.3f} {s.get('full_flushes_per_call', 0):>9.3f} "
                      f"{s.get('global_flushes_per_call', 0):>9.3f} "
                      f"{preempt:>18}")
        rt = r["rt_lateness"]
        print(f"worst wake-up lateness of cyclictest's SCHED_FIFO thread on each CPU (1 ms period), "
              f"idle {rt['idle_ns'] / 1000:.0f} us (p99.99 {rt['idle_p9999_ns'] / 1000:.0f} us); "
              f"while a service runs in a loop:")
        print(f"{'service':26} {'kernel us':>10} {'efimm us':>10} {'efimm/kernel':>13} "
              f"{'efimm/idle':>11} {'max preempt-off us':>20} {'ratio':>8} "
              f"{'call median us':>16}")
        print(f"{'':26} {'':>10} {'cpl3 us':>10} {'cpl3/kernel':>13} "
              f"{'':>11} {'cpl3 preempt-off us':>20} {'ratio':>8}")
        for service, paths in rt["services"].items():
            off = paths.get("max_preempt_off_ns", {})
            off_us = (f"{off['efimm'] / 1000:.0f} / {off['kernel'] / 1000:.0f}"
                      if off else "-")
            kernel = f"{paths['kernel'] / 1000:.0f}" if "kernel" in paths else "-"
            medians = paths.get("call_median_ns", {})
            call = " / ".join(f"{medians[p] / 1000:.0f}" for p in PATHS + (CPL3,)
                              if p in medians) or "-"
            print(f"{service:26} {kernel:>10} "
                  f"{paths.get('efimm', 0) / 1000:>10.0f} "
                  f"{paths.get('ratio_to_kernel', float('nan')):>13.3f} "
                  f"{paths.get('ratio_to_idle', float('nan')):>11.2f} "
                  f"{off_us:>20} {paths.get('preempt_off_ratio', float('nan')):>8.4f} "
                  f"{call:>16}")
            p9999 = paths.get("p9999_ns", {})
            print(f"{'  p99.99 us':26} "
                  + " / ".join(f"{p} {p9999[p] / 1000:.0f}" for p in PATHS + (CPL3,)
                               if p in p9999))
            if CPL3 in paths:
                cpl3_off = (f"{paths['cpl3_max_preempt_off_ns'] / 1000:.1f}"
                            if "cpl3_max_preempt_off_ns" in paths else "-")
                print(f"{'':26} {'':>10} {paths[CPL3] / 1000:>10.0f} "
                      f"{paths.get('cpl3_ratio_to_kernel', float('nan')):>13.3f} {'':>11} "
                      f"{cpl3_off:>20} {paths.get('cpl3_preempt_off_ratio', float('nan')):>8.4f}")
        pt = r["page_tables"]
        print(f"page tables of the lower half ({pt['efimm']['paging_levels']}-level paging, "
              "without efimm's null call page): "
              f"efimm {pt['efimm']['pt_pages']} pages, "
              f"{pt['efimm']['leaf_entries']} leaf entries; efi_mm {pt['efi_mm']['pt_pages']} pages, "
              f"{pt['efi_mm']['leaf_entries']} leaf entries")


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(results)
    fig, axes = plt.subplots(len(modes), 2, figsize=(13, 4.5 * len(modes)), squeeze=False)
    for row, mode in enumerate(modes):
        services = list(results[mode]["services"])
        x = range(len(services))
        for col, (metric, label, log) in enumerate([
                ("median_ns", "median ns per call (log)", True),
                ("full_flushes_per_call", "full TLB flushes (CR3 loads) per call", False)]):
            ax = axes[row][col]
            for i, p in enumerate(PATHS + (CPL3,)):
                vals = [results[mode]["services"][s].get(p, {}).get(metric, 0) for s in services]
                ax.bar([v + (i - 1) * 0.27 for v in x], vals, 0.27, label=p)
            ax.set_xticks(list(x))
            ax.set_xticklabels(services, rotation=30, ha="right", fontsize=8)
            ax.set_title(f"{mode}: {label}")
            if log:
                ax.set_yscale("log")
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    report(sys.argv[1], sys.argv[2], sys.argv[3:])
