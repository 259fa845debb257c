# SPDX-License-Identifier: GPL-2.0
"""Every shell script of the project parses: bash reads a script as it runs
it, so a syntax error deep in one (make check's boot loop, a selftest's
last case) would otherwise surface only when a run reaches it. And every
kselftest program is executable: the kselftest runner warns of one that
is not and runs it through its #! line only if it has one."""

import glob
import os
import re
import stat
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


class CopySourcesTest(unittest.TestCase):
    """scripts/lib.sh's copy_sources, as other-kernel.sh uses it for the
    debug and RT module builds: a source that changed is newer than the
    object built from what it replaced, whatever its time in the checkout
    it came from; an unchanged one keeps its time."""

    def copy(self, src, dest):
        lib = os.path.join(TOP, "scripts", "lib.sh")
        subprocess.run(["bash", "-c", f'. {lib}\ncopy_sources --include="*/" --include="*.c"'
                        f' --exclude="*" "$1/" "$2/"', "-", src, dest], check=True)

    def test_an_older_checkout_still_rebuilds(self):
        import shutil
        import tempfile
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        src, dest = os.path.join(d, "src"), os.path.join(d, "dest")
        os.makedirs(src)
        for name, text in (("changed.c", "new\n"), ("same.c", "same\n")):
            with open(os.path.join(src, name), "w") as f:
                f.write(text)
        self.copy(src, dest)
        # The last build, a minute ago, from another checkout's changed.c;
        # this checkout's files are a day older than its objects.
        with open(os.path.join(dest, "changed.c"), "w") as f:
            f.write("old, from another checkout\n")
        built = os.path.getmtime(os.path.join(dest, "changed.c")) - 60
        for name in ("changed.c", "same.c"):
            os.utime(os.path.join(dest, name), (built - 10, built - 10))
            os.utime(os.path.join(src, name), (built - 86400, built - 86400))
        for name in ("changed.o", "same.o"):
            open(os.path.join(dest, name), "w").close()
            os.utime(os.path.join(dest, name), (built, built))
        self.copy(src, dest)
        with open(os.path.join(dest, "changed.c")) as f:
            self.assertEqual(f.read(), "new\n")
        # make rebuilds changed.o, and only it.
        mtime = lambda name: os.path.getmtime(os.path.join(dest, name))
        self.assertGreater(mtime("changed.c"), mtime("changed.o"))
        self.assertLess(mtime("same.c"), mtime("same.o"))
        self.assertEqual(sorted(os.listdir(dest)), ["changed.c", "changed.o", "same.c", "same.o"])


def kselftest_programs(makefile):
    """The TEST_PROGS of a kselftest Makefile, continuation lines joined."""
    text = open(makefile).read().replace("\\\n", " ")
    m = re.search(r"^TEST_PROGS\s*:?=(.*)$", text, re.M)
    return m.group(1).split() if m else []


class KselftestModeTest(unittest.TestCase):
    def test_every_test_program_is_executable(self):
        makefiles = glob.glob(os.path.join(TOP, "selftests", "*", "Makefile"))
        self.assertTrue(makefiles)
        for makefile in makefiles:
            progs = kselftest_programs(makefile)
            self.assertTrue(progs, makefile)
            for prog in progs:
                path = os.path.join(os.path.dirname(makefile), prog)
                with self.subTest(prog=os.path.relpath(path, TOP)):
                    self.assertTrue(os.stat(path).st_mode & stat.S_IXUSR)

    def test_continued_lists_are_read_whole(self):
        progs = kselftest_programs(os.path.join(TOP, "selftests", "efimm", "Makefile"))
        # The first line's first program and the last line's last one.
        self.assertEqual(progs[0], "load.sh")
        self.assertEqual(progs[-1], "walk.sh")


if __name__ == "__main__":
    unittest.main()
