# SPDX-License-Identifier: GPL-2.0
"""Every shell script of the project parses: bash reads a script as it runs
it, so a syntax error deep in one (make check's boot loop, a selftest's
last case) would otherwise surface only when a run reaches it."""

import glob
import os
import subprocess
import unittest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def shell_scripts():
    found = []
    for path in glob.glob(os.path.join(TOP, "**", "*.sh"), recursive=True):
        rel = os.path.relpath(path, TOP)
        if not rel.startswith(("out" + os.sep, ".git" + os.sep)):
            found.append(rel)
    return sorted(found)


class ShellSyntaxTest(unittest.TestCase):
    def test_scripts_are_found(self):
        scripts = shell_scripts()
        self.assertIn(os.path.join("scripts", "check.sh"), scripts)
        self.assertIn(os.path.join("selftests", "efimm", "cpl3.sh"), scripts)

    def test_every_script_parses(self):
        for rel in shell_scripts():
            with self.subTest(script=rel):
                r = subprocess.run(["bash", "-n", os.path.join(TOP, rel)],
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_broken_script_is_caught(self):
        # The error this test exists for: a quote inside ${var:+...}.
        r = subprocess.run(["bash", "-n"], input='echo "${x:+ make $x\'s}"\n',
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()


class CopySourcesTest(unittest.TestCase):
    """scripts/lib.sh's copy_sources, which feeds the debug and RT module
    builds and the selftests: a source that changed is newer than the
    objects built from what it replaced, whatever its time in the
    checkout it came from."""

    def copy(self, src, dest):
        lib = os.path.join(TOP, "scripts", "lib.sh")
        subprocess.run(["bash", "-c", f'. {lib}\ncopy_sources "$1/" "$2/"', "-", src, dest],
                       check=True)

    def test_an_older_checkout_still_rebuilds(self):
        import tempfile
        d = tempfile.mkdtemp()
        src, dest = os.path.join(d, "src"), os.path.join(d, "dest")
        os.makedirs(src)
        for name, text in (("changed.c", "new\n"), ("same.c", "same\n")):
            with open(os.path.join(src, name), "w") as f:
                f.write(text)
        self.copy(src, dest)
        with open(os.path.join(dest, "changed.c"), "w") as f:
            f.write("old, built later\n")
        # The last build, a minute ago: objects newer than the sources they
        # were built from; the checkout's files a day older than them.
        built = os.path.getmtime(os.path.join(dest, "changed.c")) - 60
        os.utime(os.path.join(dest, "changed.c"), (built - 10, built - 10))
        for name in ("changed.o", "same.o"):
            open(os.path.join(dest, name), "w").close()
            os.utime(os.path.join(dest, name), (built, built))
        for name in ("changed.c", "same.c"):
            os.utime(os.path.join(src, name), (built - 86400, built - 86400))
        os.utime(os.path.join(dest, "same.c"), (built - 10, built - 10))
        self.copy(src, dest)
        with open(os.path.join(dest, "changed.c")) as f:
            self.assertEqual(f.read(), "new\n")
        # make rebuilds changed.o, and only it; --delete took the objects.
        self.assertGreater(os.path.getmtime(os.path.join(dest, "changed.c")), built)
        self.assertEqual(os.path.getmtime(os.path.join(dest, "same.c")), built - 10)
        self.assertEqual(sorted(os.listdir(dest)), ["changed.c", "same.c"])
