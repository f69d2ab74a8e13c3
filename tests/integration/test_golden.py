"""Golden CLI tests on a committed sample dump of one Go version (argv[1]: go1.19, go1.26 or
go1.27; samples/dumps/soak-small-VERSION.hsd): the exact text and JSON of `heapsift analyze`,
`info`, `path`, `show`, `top` and the exit codes of `heapsift check`, against
tests/golden/VERSION/; and the findings against the manifest the workload wrote with the dump,
both ways. Regenerate the expected files after an intended change with
HEAPSIFT_UPDATE_GOLDEN=1 (then review the diff)."""
import json
import os
import sys

import hstest

VERSION = sys.argv[1] if len(sys.argv) > 1 else "go1.19"
c = hstest.Checker("test_golden " + VERSION)
DUMP = "samples/dumps/soak-small-%s.hsd" % VERSION  # relative: reports name the path they were given
GOLDEN = os.path.join(hstest.SRC, "tests", "golden", VERSION)
update = os.environ.get("HEAPSIFT_UPDATE_GOLDEN") == "1"
if update:
    os.makedirs(GOLDEN, exist_ok=True)
with open(os.path.join(hstest.SRC, "samples", "dumps", "soak-small-%s.manifest.json" % VERSION)) as f:
    manifest = json.load(f)
# path and show look at the first ghost the workload kept in a global slice
GHOST = next(o["addr"] for o in manifest["objects"] if o["label"] == "ghost/global-slice")

def golden(name, args, want_rc=0):
    p = hstest.run([hstest.HEAPSIFT] + args, cwd=hstest.SRC)
    c.eq(p.returncode, want_rc, "%s: exit status (stderr: %s)" % (name, p.stderr.strip()[:300]))
    path = os.path.join(GOLDEN, name)
    if update:
        with open(path, "w") as f:
            f.write(p.stdout)
        return
    with open(path) as f:
        want = f.read()
    if not c.check(p.stdout == want, "%s: output equals tests/golden/%s" % (name, name)):
        import difflib
        for line in list(difflib.unified_diff(want.splitlines(), p.stdout.splitlines(),
                                              "golden", "now", lineterm=""))[:40]:
            print(line)


golden("analyze.txt", ["analyze", DUMP])
golden("analyze.json", ["analyze", DUMP, "--json", "-"])
golden("info.txt", ["info", DUMP])
golden("check-ghost.txt", ["check", DUMP, "--fail-on", "ghost"], want_rc=1)
golden("path.txt", ["path", DUMP, GHOST])
golden("show.txt", ["show", DUMP, GHOST])
golden("top-type.txt", ["top", DUMP, "-n", "8"])
golden("top-retained.txt", ["top", DUMP, "-n", "8", "--by", "retained"])
# Folded stacks: exact, and every live byte is charged to exactly one stack.
folded = os.path.join(hstest.tempdir(), "folded.txt")
p = hstest.run([hstest.HEAPSIFT, "analyze", DUMP, "--folded", folded], cwd=hstest.SRC)
c.eq(p.returncode, 0, "analyze --folded exit status")
with open(folded) as f:
    lines = f.read().splitlines()
c.check(lines and all(l.rsplit(" ", 1)[1].isdigit() for l in lines), "folded lines end in a byte count")
summary = hstest.heapsift_json(["analyze", os.path.join(hstest.SRC, DUMP), "--json", "-"])["summary"]
total = sum(int(l.rsplit(" ", 1)[1]) for l in lines)
c.check(total >= summary["in_use_bytes"], "folded bytes %d cover the in-use bytes %d" % (total, summary["in_use_bytes"]))
gpath = os.path.join(GOLDEN, "folded.txt")
if update:
    with open(gpath, "w") as f:
        f.write("\n".join(lines) + "\n")
else:
    with open(gpath) as f:
        c.check(f.read().splitlines() == lines, "folded stacks equal tests/golden/folded.txt")
# HTML: a page whose <pre> holds the text report, every character escaped.
import html.parser  # noqa: E402


class Pre(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inside, self.text, self.tags = False, "", []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.inside = tag == "pre"

    def handle_endtag(self, tag):
        self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.text += data


page = os.path.join(hstest.tempdir(), "r.html")
p = hstest.run([hstest.HEAPSIFT, "analyze", DUMP, "--html", page], cwd=hstest.SRC)
c.eq(p.returncode, 0, "analyze --html exit status")
parser = Pre()
with open(page) as f:
    parser.feed(f.read())
c.check("script" not in parser.tags, "the page has no scripts")
c.check(parser.text.startswith("heapsift report for " + DUMP) and "closure cycle" in parser.text
        and " -> " in parser.text, "the page's <pre> is the text report, unescaped back")
golden("check-all-big.txt", ["check", DUMP, "--fail-on", "all", "--min-bytes", "1G"], want_rc=0)

# Exit codes of check on bad input: 2, with a message on stderr.
p = hstest.run([hstest.HEAPSIFT, "check", DUMP, "--fail-on", "nonsense"], cwd=hstest.SRC)
c.eq(p.returncode, 2, "check with an unknown kind exits 2")
p = hstest.run([hstest.HEAPSIFT, "check", "README.md", "--fail-on", "ghost"], cwd=hstest.SRC)
c.eq(p.returncode, 2, "check on a file that is not a dump exits 2")
c.check("at byte" in p.stderr, "the error names the byte offset: %r" % p.stderr)

# The findings are the workload's truth, both ways.
rep = hstest.heapsift_json(["analyze", os.path.join(hstest.SRC, DUMP), "--json", "-"])
for kind in ("ghost", "finalizer_pinned", "closure_cycle"):
    got = {a for f in rep["findings"] if f["kind"] == kind for a in f["objects"]}
    want = {o["addr"] for o in manifest["objects"] if o["expect"] == kind}
    c.eq(sorted(want - got), [], "planted %s objects not reported" % kind)
    c.eq(sorted(got - want), [], "%s objects the workload did not plant" % kind)
c.done()
