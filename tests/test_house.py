# SPDX-License-Identifier: GPL-2.0
"""The shape of the module's source: no import circle among the files of
src/, and no hand-written declaration of efimm's own C there (bindgen
generates them from rust/efimm.h, see test_bindings.py)."""

import os
import re
import tempfile
import unittest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def modules(src):
    """{module path ("sys::mm"): file} for every .rs file under src."""
    mods = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            if parts[-1] == "mod" or parts == ["efimm_main"]:
                parts = parts[:-1]
            mods["::".join(parts)] = path
    return mods


def imports(src):
    """{module: modules it names through crate:: or super:: paths}."""
    mods = modules(src)
    graph = {}
    for mod, path in mods.items():
        here = mod.split("::") if mod else []
        # super:: is the parent of a file module, of a folder's mod.rs too.
        parent = here[:-1]
        deps = set()
        with open(path) as f:
            text = f.read()
        for m in re.finditer(r"\b(crate|super)::([a-z_]+(?:::[a-z_]+)*)", text):
            full = m.group(2).split("::")
            if m.group(1) == "super":
                full = parent + full
            for k in range(len(full), 0, -1):
                if "::".join(full[:k]) in mods:
                    deps.add("::".join(full[:k]))
                    break
        deps.discard(mod)
        graph[mod] = deps
    return graph


def related(a, b):
    """A folder's mod.rs and its files name each other by design."""
    return a == "" or b == "" or b.startswith(a + "::") or a.startswith(b + "::")


def cycles(graph):
    found, state, stack = [], {}, []

    def visit(u):
        state[u] = "open"
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if related(u, v):
                continue
            if state.get(v) == "open":
                found.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = "done"

    for u in sorted(graph):
        if u not in state:
            visit(u)
    return found


class HouseTest(unittest.TestCase):
    def test_no_import_circle_in_src(self):
        self.assertEqual(cycles(imports(os.path.join(TOP, "src"))), [])

    def test_a_circle_is_found(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "sys"))
            for name, text in [("efimm_main.rs", "mod sys;\n"),
                               ("sys/mod.rs", "mod a;\nmod b;\n"),
                               ("sys/a.rs", "use super::b::B;\n"),
                               ("sys/b.rs", "use crate::sys::a::A;\n")]:
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
            self.assertEqual(cycles(imports(d)), [["sys::a", "sys::b", "sys::a"]])

    def test_no_hand_written_extern_block_in_src(self):
        for path in modules(os.path.join(TOP, "src")).values():
            with open(path) as f:
                text = f.read()
            self.assertNotRegex(text, r'(?m)^\s*(unsafe )?extern "C" \{',
                                f"{path}: declare C in rust/efimm.h instead")
