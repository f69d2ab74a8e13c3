"""Golden CLI tests on a committed sample dump of one Go version (samples/dumps/soak-small-VERSION.hsd):
the exact text and JSON of `heapsift analyze`, `info`, `path`, `show`, `top` and the exit codes of
`heapsift check`, against tests/golden/VERSION/; and the findings against the manifest the workload
wrote with the dump, both ways.

    test_golden.py VERSION CASE   one case (each is its own Meson test: golden/VERSION/CASE)
    test_golden.py VERSION        every case
    test_golden.py --list         the case names, for tests/integration/meson.build

Regenerate the expected files after an intended change with HEAPSIFT_UPDATE_GOLDEN=1 (then
review the diff)."""
import json
import os
import sys

import hstest


def golden(ctx, name, args, want_rc=0):
    """Runs heapsift with args and compares its stdout with tests/golden/VERSION/name."""
    c = ctx["c"]
    p = hstest.run([hstest.HEAPSIFT] + args, cwd=hstest.SRC)
    c.eq(p.returncode, want_rc, "%s: exit status (stderr: %s)" % (name, p.stderr.strip()[:300]))
    expect_file(ctx, name, p.stdout)


def expect_file(ctx, name, text):
    """Compares text with the golden file name (or writes it when updating)."""
    c = ctx["c"]
    path = os.path.join(ctx["golden"], name)
    if ctx["update"]:
        with open(path, "w") as f:
            f.write(text)
        return
    with open(path) as f:
        want = f.read()
    if not c.check(text == want, "%s: output equals tests/golden/%s/%s" % (name, ctx["version"], name)):
        import difflib
        for line in list(difflib.unified_diff(want.splitlines(), text.splitlines(),
                                              "golden", "now", lineterm=""))[:40]:
            print(line)


def case_folded(ctx):
    """Folded stacks: exact, and every live byte is charged to exactly one stack."""
    c, dump = ctx["c"], ctx["dump"]
    folded = os.path.join(hstest.tempdir(), "folded.txt")
    p = hstest.run([hstest.HEAPSIFT, "analyze", dump, "--folded", folded], cwd=hstest.SRC)
    c.eq(p.returncode, 0, "analyze --folded exit status")
    with open(folded) as f:
        lines = f.read().splitlines()
    c.check(lines and all(l.rsplit(" ", 1)[1].isdigit() for l in lines), "folded lines end in a byte count")
    summary = hstest.heapsift_json(["analyze", os.path.join(hstest.SRC, dump), "--json", "-"])["summary"]
    total = sum(int(l.rsplit(" ", 1)[1]) for l in lines)
    c.check(total >= summary["in_use_bytes"], "folded bytes %d cover the in-use bytes %d" % (total, summary["in_use_bytes"]))
    expect_file(ctx, "folded.txt", "\n".join(lines) + "\n")


def case_html(ctx):
    """HTML: a page whose <pre> holds the text report, every character escaped."""
    import html.parser

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

    c, dump = ctx["c"], ctx["dump"]
    page = os.path.join(hstest.tempdir(), "r.html")
    p = hstest.run([hstest.HEAPSIFT, "analyze", dump, "--html", page], cwd=hstest.SRC)
    c.eq(p.returncode, 0, "analyze --html exit status")
    parser = Pre()
    with open(page) as f:
        parser.feed(f.read())
    c.check("script" not in parser.tags, "the page has no scripts")
    c.check(parser.text.startswith("heapsift report for " + dump) and "closure cycle" in parser.text
            and " -> " in parser.text, "the page's <pre> is the text report, unescaped back")


def case_check_errors(ctx):
    """Exit codes of check on bad input: 2, with a message on stderr."""
    c, dump = ctx["c"], ctx["dump"]
    p = hstest.run([hstest.HEAPSIFT, "check", dump, "--fail-on", "nonsense"], cwd=hstest.SRC)
    c.eq(p.returncode, 2, "check with an unknown kind exits 2")
    p = hstest.run([hstest.HEAPSIFT, "check", "README.md", "--fail-on", "ghost"], cwd=hstest.SRC)
    c.eq(p.returncode, 2, "check on a file that is not a dump exits 2")
    c.check("at byte" in p.stderr, "the error names the byte offset: %r" % p.stderr)


def case_truth(ctx):
    """The findings are the workload's truth, both ways."""
    c = ctx["c"]
    rep = hstest.heapsift_json(["analyze", os.path.join(hstest.SRC, ctx["dump"]), "--json", "-"])
    for kind in ("ghost", "finalizer_pinned", "closure_cycle"):
        got = {a for f in rep["findings"] if f["kind"] == kind for a in f["objects"]}
        want = {o["addr"] for o in ctx["manifest"]["objects"] if o["expect"] == kind}
        c.eq(sorted(want - got), [], "planted %s objects not reported" % kind)
        c.eq(sorted(got - want), [], "%s objects the workload did not plant" % kind)


def golden_case(name, args_of, want_rc=0):
    """A case that compares one command's stdout with its golden file `name`."""
    return lambda ctx: golden(ctx, name, args_of(ctx), want_rc)


# Every case by name, in the order they run when all run.
CASES = {
    "analyze.txt": golden_case("analyze.txt", lambda x: ["analyze", x["dump"]]),
    "analyze.json": golden_case("analyze.json", lambda x: ["analyze", x["dump"], "--json", "-"]),
    "info.txt": golden_case("info.txt", lambda x: ["info", x["dump"]]),
    "check-ghost.txt": golden_case("check-ghost.txt", lambda x: ["check", x["dump"], "--fail-on", "ghost"], 1),
    "path.txt": golden_case("path.txt", lambda x: ["path", x["dump"], x["ghost"]]),
    "show.txt": golden_case("show.txt", lambda x: ["show", x["dump"], x["ghost"]]),
    "top-type.txt": golden_case("top-type.txt", lambda x: ["top", x["dump"], "-n", "8"]),
    "top-retained.txt": golden_case("top-retained.txt", lambda x: ["top", x["dump"], "-n", "8", "--by", "retained"]),
    "folded.txt": case_folded,
    "html": case_html,
    "check-all-big.txt": golden_case("check-all-big.txt",
                                     lambda x: ["check", x["dump"], "--fail-on", "all", "--min-bytes", "1G"]),
    "check-errors": case_check_errors,
    "truth": case_truth,
}


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(CASES))
        return
    version = sys.argv[1]
    names = sys.argv[2:] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        sys.exit("test_golden: no case %s (test_golden.py --list)" % ", ".join(unknown))
    c = hstest.Checker("test_golden %s %s" % (version, " ".join(sys.argv[2:]) or "(all)"))
    ctx = {
        "c": c,
        "version": version,
        "dump": "samples/dumps/soak-small-%s.hsd" % version,  # relative: reports name the path given
        "golden": os.path.join(hstest.SRC, "tests", "golden", version),
        "update": os.environ.get("HEAPSIFT_UPDATE_GOLDEN") == "1",
    }
    if ctx["update"]:
        os.makedirs(ctx["golden"], exist_ok=True)
    with open(os.path.join(hstest.SRC, "samples", "dumps", "soak-small-%s.manifest.json" % version)) as f:
        ctx["manifest"] = json.load(f)
    # path and show look at the first ghost the workload kept in a global slice
    ctx["ghost"] = next(o["addr"] for o in ctx["manifest"]["objects"] if o["label"] == "ghost/global-slice")
    for n in names:
        CASES[n](ctx)
    c.done()


main()
