"""Stack objects on this test's Go toolchain: tests/go/stackheld parks two goroutines that hold
objects only through stack objects (an append-built slice whose array Go 1.25+ keeps on the
stack, and an address-taken local array), which a heap dump's frame pointer maps do not
describe. heapsift must find them in use, held by those frames, from the raw dump with the
binary and from a .hsd that carries the stack object records without it; and the redacted
dump must say the same."""
import json
import os

import hstest

c = hstest.Checker("test_stack_objects")
tmp = hstest.tempdir()
prog = hstest.go_build("tests/go/stackheld", "stackheld", cwd="tests/go/stackheld")
dump = os.path.join(tmp, "stackheld.dump")
p = hstest.run([prog, dump])
assert p.returncode == 0, p.stderr
held = json.loads(p.stdout)
hsd = os.path.join(tmp, "stackheld.hsd")
p = hstest.run([hstest.HEAPSIFT_DUMP, "import", dump, "--binary", prog, "-o", hsd])
c.eq(p.returncode, 0, "import: %s" % p.stderr.strip())
red = os.path.join(tmp, "stackheld.red")
p = hstest.run([hstest.HEAPSIFT, "redact", dump, red, "--binary", prog])
c.eq(p.returncode, 0, "redact: %s" % p.stderr.strip())

for what, args in (("raw dump", [dump, "--binary", prog]), (".hsd", [hsd]),
                   ("redacted dump", [red, "--binary", prog])):
    for how, fn in (("append", "main.viaAppend"), ("array", "main.viaArray")):
        for addr in held[how]:
            p = hstest.run([hstest.HEAPSIFT, "path"] + args[:1] + [addr] + args[1:])
            c.eq(p.returncode, 0, "%s: path %s exit status (%s)" % (what, addr, p.stderr.strip()))
            lines = p.stdout.splitlines()
            c.check(lines and "in use" in lines[0], "%s: %s (%s) is in use: %r" % (what, addr, how, lines[:1]))
            c.check(len(lines) > 1 and lines[1].startswith("stack frame") and fn in lines[1],
                    "%s: %s is held by a %s frame: %r" % (what, addr, fn, lines[1:2]))
c.done()
