# SPDX-License-Identifier: GPL-2.0
"""What efimm's C and Rust share is declared once, in rust/efimm.h, and
bindgen generates the Rust side at build time (Kbuild): a C signature or
a struct layout changed in the header makes the module fail to build where
Rust uses it, instead of building and corrupting memory at run time.

Builds a copy of the module against the cached kernel build: as it is
(it must build), then with a changed signature and a changed field."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CACHE = os.environ.get("EFIMM_CACHE", os.path.expanduser("~/.cache/efimm"))


def kernel_build():
    out = subprocess.run([os.path.join(TOP, "scripts", "kernel.sh"), "env"],
                         capture_output=True, text=True, check=True).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return env["KBUILD_DIR"]


def build(tree):
    """make modules for the module copy in @tree; (returncode, output)."""
    libclang = glob.glob(os.path.join(CACHE, "venv", "lib", "python3*",
                                      "site-packages", "clang", "native"))
    cmd = ["make", "-s", "-C", kernel_build(), f"M={tree}",
           "RUSTC=/usr/bin/rustc",
           "BINDGEN=" + os.path.join(CACHE, "cargo", "bin", "bindgen"),
           "LIBCLANG_PATH=" + (libclang[0] if libclang else ""), "modules"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return res.returncode, res.stdout + res.stderr


def copy_module(dst):
    shutil.copy(os.path.join(TOP, "Kbuild"), dst)
    for d in ("src", "rust"):
        shutil.copytree(os.path.join(TOP, d), os.path.join(dst, d),
                        ignore=shutil.ignore_patterns("*.o", ".*", "*.d",
                                                      "bindings_generated.rs"))


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    if old not in text:
        raise AssertionError(f"{path}: no {old!r} to change")
    with open(path, "w") as f:
        f.write(text.replace(old, new))


class BindingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(os.path.join(kernel_build(), "Module.symvers")):
            raise AssertionError("no kernel build: run make kernel first")

    def test_the_copy_builds_as_it_is(self):
        with tempfile.TemporaryDirectory() as d:
            copy_module(d)
            code, out = build(d)
            self.assertEqual(code, 0, out[-3000:])
            self.assertTrue(os.path.isfile(os.path.join(d, "efimm.ko")))

    def test_a_changed_signature_or_layout_fails_the_build(self):
        with tempfile.TemporaryDirectory() as d:
            copy_module(d)
            header = os.path.join(d, "rust", "efimm.h")
            # The counts come back as longs; Rust passes ints.
            edit(header, "void efimm_mm_counts(struct efimm_mm *m, int *users, int *count);",
                 "void efimm_mm_counts(struct efimm_mm *m, long *users, long *count);")
            # The vector grows to 64 bits, moving every field after it.
            edit(header, "\ts32 fault_vector;", "\ts64 fault_vector;")
            code, out = build(d)
            self.assertNotEqual(code, 0, "the module built")
            errors = [l for l in out.splitlines() if l.startswith("error")]
            self.assertTrue(errors, out[-3000:])
            self.assertIn("efimm_mm_counts", out)
            self.assertIn("fault_vector", out)
            # Rust found them, not the C compiler.
            self.assertIn("src/", out)
