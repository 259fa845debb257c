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
