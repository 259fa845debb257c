# SPDX-License-Identifier: GPL-2.0
"""scripts/efivarfs-copy.sh: the kernel's efivarfs kselftest, as make
selftests installs it, no longer hangs when a background job ends at the
wrong moment.

The upstream test_multiple_* cases hold a variable open from three jobs
and end them one by one with endjob (write a FIFO, then "wait -n %N"). If
bash handles the job's SIGCHLD between the two scans "wait -n" makes of
its jobs table, it waits for another child instead; the other two jobs
wait for their own endjob, and the test hangs (seen in make check, in
test_multiple_zero_size). The race is made certain here: strace delays
the return of one of the shell's sigprocmask calls in "wait -n" while
the job exits, for each of the calls in turn. The upstream helpers hang
at some call; the copy's never do."""

import os
import shutil
import signal
import subprocess
import tempfile
import unittest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
COPY = os.path.join(TOP, "scripts", "efivarfs-copy.sh")


def upstream_dir():
    src = os.environ.get("KSRC") or os.path.join(
        os.environ.get("EFIMM_CACHE", os.path.expanduser("~/.cache/efimm")), "linux")
    return os.path.join(src, "tools", "testing", "selftests", "efivarfs")


def job_helpers(efivarfs_sh):
    """The test's waitstart/waitpipe/endjob definitions, as it has them."""
    lines = open(efivarfs_sh).read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "waitstart() {")
    end = next(i for i, l in enumerate(lines) if l.strip() == "endjob() {")
    end = next(i for i in range(end, len(lines)) if lines[i].strip() == "}")
    return "\n".join(lines[start:end + 1])


# test_multiple_zero_size's choreography, on FIFOs and a plain file. The
# first job ends 50 ms after it is told to; meanwhile strace holds the
# shell in the return of its Nth sigprocmask call after attaching (while
# the shell sleeps, before endjob 1), N = $1. $2 is an empty directory.
HARNESS = r"""
d=$2
declare -a p
p[0]=""
for f in 1 2 3 4 5 6; do p[$f]=$d/pipe$f; mknod ${p[$f]} p; done
var=$d/var
%(helpers)s
{ waitpipe 1; sleep 0.05; echo 1; } > $var 2> /dev/null &
waitstart 1
{ waitpipe 2; } < $var &
waitstart 2
{ waitpipe 3; } < $var &
waitstart 3
me=$BASHPID
( exec strace -qq -o /dev/null -p $me -e trace=rt_sigprocmask \
	-e inject=rt_sigprocmask:delay_exit=150000:when=$1 & )
sleep 0.3
endjob 1
endjob 2
endjob 3
"""

CALLS = range(2, 11)


class EfivarfsCopyTest(unittest.TestCase):
    def setUp(self):
        self.src = upstream_dir()
        if not os.path.isfile(os.path.join(self.src, "efivarfs.sh")):
            self.skipTest(f"no kernel source at {self.src} (make kernel)")
        if not shutil.which("strace"):
            self.skipTest("no strace (make deps)")
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def hangs(self, efivarfs_sh, first=False):
        """The calls N at which the helpers of efivarfs_sh hang, or fail
        (the first one only, if first). On a loaded host the lost job can
        also show as "wait -n %N" finding no such job (status 127) rather
        than as a hang."""
        script = HARNESS % {"helpers": job_helpers(efivarfs_sh)}
        hung = []
        for n in CALLS:
            d = tempfile.mkdtemp(dir=self.tmp)
            sh = subprocess.Popen(["bash", "-c", script, "harness", str(n), d],
                                  stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
            try:
                _, err = sh.communicate(timeout=2)
                if sh.returncode != 0:
                    hung.append(n)
            except subprocess.TimeoutExpired:
                hung.append(n)
            finally:
                # The shell, its jobs and strace: one process group.
                try:
                    os.killpg(sh.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                sh.communicate()
            if hung and first:
                break
        return hung

    def test_upstream_hangs_and_the_copy_does_not(self):
        dst = os.path.join(self.tmp, "efivarfs")
        os.mkdir(dst)
        subprocess.run(["bash", COPY, self.src, dst], check=True)
        upstream = self.hangs(os.path.join(self.src, "efivarfs.sh"), first=True)
        if not upstream:
            self.skipTest("this bash does not lose the job; nothing to show")
        self.assertEqual(self.hangs(os.path.join(dst, "efivarfs.sh")), [],
                         f"upstream hung at call {upstream}")

    def test_the_copy_differs_only_in_its_waits(self):
        dst = os.path.join(self.tmp, "efivarfs")
        os.mkdir(dst)
        subprocess.run(["bash", COPY, self.src, dst], check=True)
        a = open(os.path.join(self.src, "efivarfs.sh")).read().splitlines()
        b = open(os.path.join(dst, "efivarfs.sh")).read().splitlines()
        changed = [(x, y) for x, y in zip(a, b) if x != y]
        self.assertEqual(len(a), len(b))
        self.assertEqual([(x.strip(), y.strip()) for x, y in changed],
                         [("wait -n %$1", "wait %$1")])
        self.assertEqual(sorted(os.listdir(self.src)), sorted(os.listdir(dst)))

    def test_a_changed_upstream_test_is_refused(self):
        src = os.path.join(self.tmp, "src")
        os.mkdir(src)
        with open(os.path.join(src, "efivarfs.sh"), "w") as f:
            f.write("endjob() {\n\twait %$1\n}\n")
        r = subprocess.run(["bash", COPY, src, self.tmp], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("the upstream test changed", r.stderr)


if __name__ == "__main__":
    unittest.main()
