"""Every broken input under tests/broken/ given to the CLIs: `heapsift info` and `heapsift
analyze` must exit 2 with a one-line error naming the byte offset, never crash or hang; a
broken ELF given as --binary must be refused the same way."""
import glob
import os

import hstest

c = hstest.Checker("test_broken_cli")
broken = os.path.join(hstest.SRC, "tests", "broken")
sample = os.path.join(hstest.SRC, "samples", "dumps", "soak-small-go1.26.hsd")

# Files whose container is sound but whose payload is not a dump of ours (valid.hsd holds
# sections the analyzer does not need) are allowed to fail for a different reason.
files = sorted(glob.glob(os.path.join(broken, "gohd", "*.bin")) +
               glob.glob(os.path.join(broken, "hsd", "*.hsd")))
c.check(len(files) > 40, "the broken corpus is there (%d files)" % len(files))
for path in files:
    name = os.path.relpath(path, broken)
    for cmd in ("info", "analyze"):
        p = hstest.run([hstest.HEAPSIFT, cmd, path], timeout=60)
        c.eq(p.returncode, 2, "%s %s: exit status (stderr %r)" % (cmd, name, p.stderr[-200:]))
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        c.check(len(lines) == 1 and lines[0].startswith("heapsift %s: " % cmd),
                "%s %s: one error line: %r" % (cmd, name, p.stderr[-300:]))
        if os.path.basename(path) != "valid.hsd":
            c.check("at byte" in p.stderr, "%s %s: the error names the byte offset: %r"
                    % (cmd, name, p.stderr[-300:]))

for path in sorted(glob.glob(os.path.join(broken, "elfimg", "*.bin"))):
    name = os.path.relpath(path, broken)
    p = hstest.run([hstest.HEAPSIFT, "info", sample, "--binary", path], timeout=60)
    c.eq(p.returncode, 2, "info --binary %s: exit status (stderr %r)" % (name, p.stderr[-200:]))
    c.check(p.stderr.startswith("heapsift info: ") and "Traceback" not in p.stderr,
            "info --binary %s: a clear error: %r" % (name, p.stderr[-300:]))
# Broken core files given to `heapsift-dump import`: exit 2, one line naming the byte, no file.
# (They fail before the binary is read, so any ELF file serves as --binary.)
out_dir = hstest.tempdir()
with open(os.path.join(broken, "coremem", "EXPECTED")) as f:
    bad_cores = [l.split()[0] for l in f if l.strip() and not l.startswith("#") and l.split()[1] != "ok"]
c.check(len(bad_cores) > 20, "the broken cores are there (%d)" % len(bad_cores))
for name in bad_cores:
    out = os.path.join(out_dir, "x.hsd")
    p = hstest.run([hstest.HEAPSIFT_DUMP, "import", os.path.join(broken, "coremem", name),
                    "--binary", "/bin/true", "-o", out], timeout=60)
    c.eq(p.returncode, 2, "import coremem/%s: exit status (stderr %r)" % (name, p.stderr[-200:]))
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    c.check(len(lines) >= 1 and lines[0].startswith("heapsift-dump import: ") and "byte" in lines[0],
            "import coremem/%s: an error naming the byte: %r" % (name, p.stderr[-300:]))
    c.eq(os.listdir(out_dir), [], "import coremem/%s: no file left" % name)
# A record larger than the memory budget is refused before it is buffered.
env = dict(os.environ, HEAPSIFT_MAX_RECORD="64K")
p = hstest.run([hstest.HEAPSIFT, "analyze", sample], env=env, timeout=60)
c.eq(p.returncode, 2, "a record over HEAPSIFT_MAX_RECORD: exit status")
c.check("limit exceeded at byte" in p.stderr, "the budget error names the offset: %r" % p.stderr)
c.done()
