"""Hostile pointer graphs (gen_hostile.c): a million-long chain, a 200k fan-in and fan-out,
cycles and self-pointers everywhere, finalizers on everything, overlapping objects, pointers into
the middle of objects, objects at absurd addresses, deep stacks, type/itab/memprof floods.
`heapsift analyze` (text, --json and --dot) must exit 0 or 2 on each -- never die by a signal,
never print a sanitizer report -- within a time bound.

Usage: test_hostile.py GEN_HOSTILE   (HEAPSIFT from the Meson test environment)"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import hstest  # noqa: E402

# Per file. The full-size cases take well under a second in a release build; the bound is for
# the ASan+UBSan suite on a loaded 2-core machine.
TIME_LIMIT = 120

c = hstest.Checker("test_hostile")
tmp = hstest.tempdir()
gen = sys.argv[1]
p = subprocess.run([gen, tmp], capture_output=True, text=True)
c.check(p.returncode == 0, "gen_hostile wrote every case (%s)" % p.stderr[-300:])
files = sorted(f for f in os.listdir(tmp) if f.startswith("hostile-"))
c.check(len(files) >= 14, "at least 14 hostile dumps written (got %d)" % len(files))
for name in files:
    path = os.path.join(tmp, name)
    args = [hstest.HEAPSIFT, "analyze", path, "--json", os.devnull, "--dot", os.devnull]
    if "globals" in name:
        args += ["--container", "main.store", "--container", "main.table",
                 "--value-type", "main.Payload"]
    t0 = time.monotonic()
    try:
        p = subprocess.run(args, capture_output=True, text=True, errors="replace",
                           timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        c.check(False, "%s: analyze finished within %d s" % (name, TIME_LIMIT))
        continue
    dt = time.monotonic() - t0
    print("%-28s %5.2f s  exit %d  %s" % (name, dt, p.returncode,
          p.stderr.strip().splitlines()[-1][:100] if p.stderr.strip() else ""))
    c.check(p.returncode in (0, 2), "%s: exit 0 or 2, got %d: %s" % (name, p.returncode, p.stderr[-2000:]))
    c.check("Sanitizer" not in p.stderr and "runtime error:" not in p.stderr,
            "%s: no sanitizer report: %s" % (name, p.stderr[-2000:]))
    if p.returncode == 0:
        c.check(p.stdout.startswith("heapsift report for"), "%s: a report was printed" % name)
    else:
        c.check("heapsift analyze:" in p.stderr, "%s: exit 2 comes with an error message" % name)
shutil.rmtree(tmp, ignore_errors=True)  # the full-size dumps take ~45 MB
c.done()
