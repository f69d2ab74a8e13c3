"""Symbols from the wrong binary are refused, naming what disagrees (issue: binary/dump
consistency). A raw dump of tests/go/stackheld is read with its own binary (accepted), with
another program's (its data segment differs), and with a copy of its own binary whose type
name for syscall.Errno was altered (only a type disagrees); `heapsift-dump import` refuses the
wrong binary (exit 1, as for any bad input to import) and leaves no file; a .hsd read with another binary is refused by build id."""
import os
import shutil

import hstest

c = hstest.Checker("test_binary_check")
tmp = hstest.tempdir()
prog = hstest.go_build("tests/go/stackheld", "stackheld", cwd="tests/go/stackheld")
other = hstest.go_build("tests/go/knownheap/main.go", "knownheap")
dump = os.path.join(tmp, "stackheld.dump")
p = hstest.run([prog, dump])
assert p.returncode == 0, p.stderr
WRONG = "not the program that wrote this dump"


def refused(what, args, facts):
    """heapsift args must exit 2 and name the disagreement and each of facts."""
    p = hstest.run([hstest.HEAPSIFT] + args)
    c.eq(p.returncode, 2, "%s: exit status (stderr: %s)" % (what, p.stderr.strip()[:300]))
    c.check(WRONG in p.stderr and all(f in p.stderr for f in facts),
            "%s: the error says the binary is wrong and names %s: %r" % (what, facts, p.stderr))


# The right binary: accepted.
p = hstest.run([hstest.HEAPSIFT, "analyze", dump, "--binary", prog])
c.eq(p.returncode, 0, "raw dump with its own binary: exit status (%s)" % p.stderr.strip())

# Another program: the first fact that disagrees (a type the dump names, or the data segment).
refused("raw dump with another program", ["analyze", dump, "--binary", other], ["at byte"])
refused("path on a raw dump with another program", ["path", dump, "0xc000010000", "--binary", other], [])

# The same program with one type renamed in its type descriptors: only the type disagrees.
with open(prog, "rb") as f:
    image = f.read()
needle = b"*syscall.Errno"
if image.count(needle):
    bad = os.path.join(tmp, "stackheld-renamed")
    with open(bad, "wb") as f:
        f.write(image.replace(needle, b"*syscall.Errnp"))
    refused("raw dump with a type renamed in the binary", ["analyze", dump, "--binary", bad],
            ["syscall.Errno", "syscall.Errnp"])
else:
    c.skip("no %r in the binary to rename" % needle)

# import: the wrong binary is refused, and no file is left behind.
out = os.path.join(tmp, "wrong.hsd")
p = hstest.run([hstest.HEAPSIFT_DUMP, "import", dump, "--binary", other, "-o", out])
c.eq(p.returncode, 2, "import with another program: exit status (%s)" % p.stderr.strip())
c.check("wrong binary" in p.stderr and WRONG in p.stderr, "import names the wrong binary: %r" % p.stderr)
c.check(not os.path.exists(out) and not [n for n in os.listdir(tmp) if n.startswith("wrong.hsd")],
        "import with another program leaves no file: %s" % os.listdir(tmp))

# A .hsd records the build id at capture: another binary is refused by it, its own is accepted.
hsd = os.path.join(tmp, "stackheld.hsd")
p = hstest.run([hstest.HEAPSIFT_DUMP, "import", dump, "--binary", prog, "-o", hsd])
c.eq(p.returncode, 0, "import with its own binary (%s)" % p.stderr.strip())
refused(".hsd with another program", ["analyze", hsd, "--binary", other], ["build id"])
p = hstest.run([hstest.HEAPSIFT, "analyze", hsd, "--binary", prog])
c.eq(p.returncode, 0, ".hsd with its own binary: exit status (%s)" % p.stderr.strip())
# A copy of the binary is the same binary.
copy = os.path.join(tmp, "copy-of-stackheld")
shutil.copy(prog, copy)
p = hstest.run([hstest.HEAPSIFT, "analyze", hsd, "--binary", copy])
c.eq(p.returncode, 0, ".hsd with a copy of its binary: exit status (%s)" % p.stderr.strip())
c.done()
