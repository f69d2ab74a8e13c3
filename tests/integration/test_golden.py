"""Golden CLI tests on a committed sample dump of one Go version (samples/dumps/soak-small-VERSION.hsd):
the exact text and JSON of `heapsift analyze` (also wrapped at --width), `info`, `path`, `show`,
`top` and the exit codes of `heapsift check`, against tests/golden/VERSION/, as well as the HTML
page's views and the pprof profile's samples; and the findings against the manifest the workload
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


def page_views(data):
    """The page's views as text: the dominator tree indented, then the nodes with details."""
    v = data["views"]
    strs = v["strings"]
    name = lambda st: strs[st[1]] if st[1] is not None else "object [%s]" % strs[st[2]]
    depth, lines = {}, ["dominator tree (%d nodes)" % len(v["tree"])]
    for i, n in enumerate(v["tree"]):
        depth[i] = 0 if n["parent"] is None else depth[n["parent"]] + 1
        st = n["node"]
        lines.append("%s%s %s %s retains %d, %d children, %d left out" % (
            "  " * (depth[i] + 1), strs[st[0]], name(st), st[3], n["retained_bytes"], n["children"],
            n["rest_bytes"]))
    lines.append("nodes with details (%d, %d left out)" % (len(v["objects"]), v["objects_left_out"]))
    for o in v["objects"]:
        st = o["node"]
        lines.append("  %s %s %s: %s, %d of %d fields, %d of %d referrers" % (
            st[3], strs[st[0]], name(st), o["state"], len(o["fields"]), o["fields_total"],
            len(o["referrers"]), o["referrers_total"]))
    return "\n".join(lines) + "\n"


def case_html(ctx):
    """HTML: one self-contained page (inline style and script, a policy that forbids fetching,
    nothing that fetches) whose data is the JSON report with the views; the views exactly."""
    import re
    c, dump = ctx["c"], ctx["dump"]
    page = os.path.join(hstest.tempdir(), "r.html")
    p = hstest.run([hstest.HEAPSIFT, "analyze", dump, "--html", page], cwd=hstest.SRC)
    c.eq(p.returncode, 0, "analyze --html exit status")
    text, data = hstest.read_page(page)
    rep = hstest.heapsift_json(["analyze", os.path.join(hstest.SRC, dump), "--json", "-"])
    c.check("default-src 'none'" in text, "the page's Content-Security-Policy forbids fetching")
    c.check(not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|https?://", text),
            "nothing in the page fetches anything (no link, img, src= or URL)")
    c.eq(len(re.findall(r"<script\b", text)), 2, "two scripts: the data and the page's own")
    c.eq(data["schema"], rep["schema"], "the data is a heapsift-report")
    c.eq(len(data["findings"]), len(rep["findings"]), "every finding is in the page")
    listed = data["views"]["listed"]
    for got, want in zip(data["findings"], rep["findings"]):
        c.eq(got["objects"], want["objects"][:listed], "a finding lists its first %d objects" % listed)
        got = dict(got, objects=None)
        c.eq(got, dict(want, objects=None), "a finding in the page is the report's")
    c.eq([k["bytes"] for k in data["classes"] if k["id"] in ("in-use", "garbage")],
         [rep["summary"]["in_use_bytes"], rep["summary"]["garbage_bytes"]], "memory classes")
    shown = {st["addr"] for f in data["findings"] + data["info"] if f["path"]
             for st in f["path"]["steps"] + f.get("cycle", [])}
    shown |= {a for f in data["findings"] + data["info"] for a in f["objects"]}
    shown |= {n["node"][3] for n in data["views"]["tree"]}
    detailed = {o["node"][3] for o in data["views"]["objects"]}
    c.eq(sorted(detailed - shown), [], "details only for nodes the page shows")
    tree = data["views"]["tree"]
    c.check(all(n["parent"] is None or n["parent"] < i for i, n in enumerate(tree)),
            "the tree lists parents before their children")
    expect_file(ctx, "page-views.txt", page_views(data))


def case_pprof(ctx):
    """pprof: the in-use heap by reference chain, every in-use object once."""
    c, dump = ctx["c"], ctx["dump"]
    out = os.path.join(hstest.tempdir(), "heap.pb.gz")
    p = hstest.run([hstest.HEAPSIFT, "analyze", dump, "--pprof", out], cwd=hstest.SRC)
    c.eq(p.returncode, 0, "analyze --pprof exit status")
    prof = hstest.read_pprof(out)
    summary = hstest.heapsift_json(["analyze", os.path.join(hstest.SRC, dump), "--json", "-"])["summary"]
    c.eq(prof["sample_types"], [("inuse_objects", "count"), ("inuse_space", "bytes"),
                                ("retained_space", "bytes")], "sample types")
    c.eq(prof["default_sample_type"], "inuse_space", "default sample type")
    c.eq(sum(v[0] for _, v in prof["samples"]), summary["in_use_objects"], "objects: the in-use objects")
    c.eq(sum(v[1] for _, v in prof["samples"]), summary["in_use_bytes"], "bytes: the in-use bytes")
    stacks = [";".join(f) for f, _ in prof["samples"]]
    c.eq(len(stacks), len(set(stacks)), "one sample per chain")
    expect_file(ctx, "pprof.txt", "".join("%s %d %d %d\n" % (";".join(f), v[0], v[1], v[2])
                                          for f, v in sorted(prof["samples"])))


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
    "analyze-wrap.txt": golden_case("analyze-wrap.txt", lambda x: ["analyze", x["dump"], "--width", "72"]),
    "html": case_html,
    "pprof": case_pprof,
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
