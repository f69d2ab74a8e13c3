"""Shared helpers for heapsift's integration tests: paths from the Meson test environment,
Go builds cached in the build tree, running the CLIs, and a checker that counts failures."""
import json
import re
import os
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("HEAPSIFT_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("HEAPSIFT_BUILD", os.path.join(SRC, "build"))
HEAPSIFT = os.environ.get("HEAPSIFT", os.path.join(BUILD, "analyzer", "heapsift"))
HEAPSIFT_DUMP = os.environ.get("HEAPSIFT_DUMP", os.path.join(BUILD, "dumper", "heapsift-dump"))
# GO: the toolchain this test runs with (meson sets it per toolchain of the Go matrix, with
# HEAPSIFT_GO_VERSION, its name there); set but empty when the build found no Go at all.
GO = os.environ["GO"] if "GO" in os.environ else "go"
GOBIN_DIR = os.path.join(BUILD, "go-bin")


def go_env():
    env = dict(os.environ)
    env.setdefault("GOPROXY", "off")
    env.setdefault("GOFLAGS", "-mod=mod")
    env.setdefault("CGO_ENABLED", "0")
    env.setdefault("GOTOOLCHAIN", "local")
    env.setdefault("GOWORK", "off")
    if "HOME" not in env and "GOCACHE" not in env:
        env["GOCACHE"] = os.path.join(BUILD, "go-cache")
    return env


_go_version = None


def go_version():
    """The name of this test's Go toolchain: HEAPSIFT_GO_VERSION, else `go env GOVERSION`."""
    global _go_version
    if _go_version is None:
        _go_version = os.environ.get("HEAPSIFT_GO_VERSION") or ""
        if not _go_version:
            p = subprocess.run([GO, "env", "GOVERSION"], capture_output=True, text=True,
                               env=go_env(), check=True)
            _go_version = p.stdout.split()[0] if p.stdout.split() else "unknown"
    return _go_version


_built = {}


def go_build(pkg, name, ldflags=None, cwd=None):
    """Builds a Go package directory or file (path relative to the source root) into
    go-bin/VERSION/NAME in the build tree and returns the binary's path. `go build` runs once
    per process and binary: the go command itself decides whether the binary is current (its
    build ID covers every source of every package it links, the hook module dumper/go through
    the replace directives, go.mod, the flags and the toolchain) and leaves it alone if so.
    Exits 77 (skip) when the build found no Go toolchain."""
    if not GO:
        print("no Go toolchain (GO is empty): skipping a test that needs a Go program",
              file=sys.stderr)
        sys.exit(77)
    out_dir = os.path.join(GOBIN_DIR, go_version())
    out = os.path.join(out_dir, name)
    key = (out, pkg, ldflags, cwd)
    if key in _built:
        return out
    if any(k[0] == out for k in _built):
        raise ValueError("go_build: %s built twice with different arguments" % name)
    os.makedirs(out_dir, exist_ok=True)
    src = os.path.join(SRC, pkg)
    cmd = [GO, "build", "-o", out]
    if ldflags:
        cmd.append("-ldflags=" + ldflags)
    if cwd:
        cmd.append("./" + os.path.relpath(src, os.path.join(SRC, cwd)))
        subprocess.run(cmd, check=True, cwd=os.path.join(SRC, cwd), env=go_env())
    else:
        cmd.append(src)
        subprocess.run(cmd, check=True, cwd=SRC if os.path.isdir(src) else os.path.dirname(src), env=go_env())
    _built[key] = True
    return out


def run(cmd, **kw):
    """Runs a command, capturing text output; never raises on a non-zero status."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    return subprocess.run(cmd, **kw)


def heapsift_json(args):
    """Runs `heapsift ARGS` that prints JSON on stdout and returns the parsed object."""
    p = run([HEAPSIFT] + args)
    if p.returncode != 0:
        raise AssertionError("heapsift %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return json.loads(p.stdout)


class Checker:
    """Counts checks; `skip(why)` notes a part that could not run here; `done()` prints a
    summary and exits 1 when any check failed, else 77 (skipped, for Meson) when a part was
    skipped, else 0."""

    def __init__(self, name):
        self.name = name
        self.failed = 0
        self.count = 0
        self.skipped = []

    def check(self, cond, what):
        self.count += 1
        if not cond:
            self.failed += 1
            print("FAIL: %s" % what, file=sys.stderr)
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, "%s: got %r, want %r" % (what, got, want))

    def skip(self, why):
        """Records that part of the test could not run here (the whole test then reports a
        skip, not a pass)."""
        self.skipped.append(why)
        print("SKIP: %s" % why, file=sys.stderr)

    def done(self):
        print("%s: %d checks, %d failed%s" % (self.name, self.count, self.failed,
                                               ", skipped: " + "; ".join(self.skipped) if self.skipped else ""),
              file=sys.stderr)
        sys.exit(1 if self.failed else 77 if self.skipped else 0)


def tempdir():
    """A scratch directory removed at exit (kept when HEAPSIFT_KEEP_TMP=1, for debugging)."""
    d = tempfile.mkdtemp(prefix="heapsift-test-")
    if os.environ.get("HEAPSIFT_KEEP_TMP") != "1":
        import atexit
        import shutil
        atexit.register(shutil.rmtree, d, True)
    return d


def read_hsd(path):
    """Parses a .hsd independently of the C reader, following formats/HSD.md: returns a list
    of (type, name, raw bytes, stored size) in file order, checking each chunk's raw CRC."""
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"HEAPSIFT", "%s: no HEAPSIFT magic" % path
    assert data[-8:] == b"HSD-END\n", "%s: no end marker" % path
    index_off, index_len = struct.unpack_from("<QQ", data, len(data) - 32)
    idx = data[index_off:index_off + index_len]
    assert idx[:4] == b"HSDI"
    nsec, _nchunks = struct.unpack_from("<IQ", idx, 4)
    pos, secs = 16, []
    for _ in range(nsec):
        typ, n, _raw, stored, name_len = struct.unpack_from("<IIQQI", idx, pos)
        secs.append((typ, idx[pos + 32:pos + 32 + name_len].decode(), n, stored))
        pos += 32 + name_len
    out = []
    for typ, name, n, stored in secs:
        raw = bytearray()
        for _ in range(n):
            off, raw_len, stored_len, raw_crc, _ = struct.unpack_from("<QIIII", idx, pos)
            pos += 24
            chunk = zlib.decompress(data[off + 32:off + 32 + stored_len])
            assert len(chunk) == raw_len and zlib.crc32(chunk) == raw_crc, "%s: bad chunk" % path
            raw += chunk
        out.append((typ, name, bytes(raw), stored))
    return out


def read_hsd_section(path, typ):
    """The raw bytes of the first section of type typ of a .hsd (read_hsd), or None."""
    for t, _name, raw, _stored in read_hsd(path):
        if t == typ:
            return raw
    return None


def read_page(path):
    """The HTML page heapsift analyze --html wrote: (its text, the data embedded in its
    <script type="application/json" id="heapsift-data"> element, parsed)."""
    import html.parser

    class Data(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.text = False, []

        def handle_starttag(self, tag, attrs):
            self.inside = tag == "script" and ("id", "heapsift-data") in attrs

        def handle_endtag(self, tag):
            self.inside = False

        def handle_data(self, data):
            if self.inside:
                self.text.append(data)

    with open(path, encoding="utf-8") as f:
        text = f.read()
    p = Data()
    p.feed(text)
    return text, json.loads("".join(p.text))


def varint(b, i):
    """The unsigned LEB128 varint at b[i]: (value, index after it)."""
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return v, i


def _fields(b):
    """(field, wire type, value) of a protobuf message: ints for varints, bytes for the
    length-delimited, independently of heapsift's encoder."""
    i, out = 0, []
    while i < len(b):
        tag, i = varint(b, i)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            v, i = varint(b, i)
        elif wire == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wire == 1:
            v, i = int.from_bytes(b[i:i + 8], "little"), i + 8
        elif wire == 5:
            v, i = int.from_bytes(b[i:i + 4], "little"), i + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((field, wire, v))
    return out


def _ints(wire, v):
    """A repeated integer field's values, packed or not (int64s as signed)."""
    if wire == 0:
        vals = [v]
    else:
        vals, i = [], 0
        while i < len(v):
            x, i = varint(v, i)
            vals.append(x)
    return [x - (1 << 64) if x >= 1 << 63 else x for x in vals]


def read_pprof(path):
    """A gzipped profile.proto (github.com/google/pprof proto/profile.proto) as a dict:
    sample_types [(type, unit)], default_sample_type, comments, and samples [(frames, values)]
    with each sample's frames root first (function names)."""
    import gzip
    with open(path, "rb") as f:
        msg = gzip.decompress(f.read())
    strings, types, samples, locs, funcs, comments, default = [], [], [], {}, {}, [], 0
    for field, wire, v in _fields(msg):
        if field == 6:
            strings.append(v.decode("utf-8"))
        elif field == 1:
            t = {f: x for f, _, x in _fields(v)}
            types.append((t.get(1, 0), t.get(2, 0)))
        elif field == 2:
            ids, vals = [], []
            for f, w, x in _fields(v):
                if f == 1:
                    ids += _ints(w, x)
                elif f == 2:
                    vals += _ints(w, x)
            samples.append((ids, vals))
        elif field == 4:
            loc_id, fn = 0, None
            for f, w, x in _fields(v):
                if f == 1:
                    loc_id = x
                elif f == 4:
                    fn = dict((g, y) for g, _, y in _fields(x)).get(1)
            locs[loc_id] = fn
        elif field == 5:
            fd = {f: x for f, _, x in _fields(v)}
            funcs[fd.get(1)] = fd.get(2, 0)
        elif field == 13:
            comments += _ints(wire, v)
        elif field == 14:
            default = v
    name = lambda loc: strings[funcs[locs[loc]]]
    return {
        "sample_types": [(strings[t], strings[u]) for t, u in types],
        "default_sample_type": strings[default] if default else None,
        "comments": [strings[c] for c in comments],
        "samples": [([name(l) for l in reversed(ids)], vals) for ids, vals in samples],
    }


def go_minor(version):
    """The minor version of a Go version string (26 for "go1.26.8"), 0 when there is none."""
    m = re.match(r"go1\.(\d+)", version or "")
    return int(m.group(1)) if m else 0


# Roots whose first hop has no variable to name.
UNNAMED_ROOTS = ("finalizer", "other root", "queued finalizer", "defer", "panic")


def unnamed_hops(rep):
    """The hops of a report's finding paths that have no Go name, as "TITLE: hop N A -> B at +F"
    lines. Skipped: hops out of a root that has no variables."""
    out = []
    for f in rep["findings"]:
        steps = (f.get("path") or {}).get("steps") or []
        for i, st in enumerate(steps[1:], 1):
            if steps[i - 1]["kind"] == "root" or (f["path"]["root_kind"] in UNNAMED_ROOTS and i == 1):
                continue
            if st.get("field_name") is None:
                out.append("%s: hop %d %s -> %s at +%s" % (
                    f["title"][:60], i, steps[i - 1]["name"] or steps[i - 1].get("shape"),
                    st["name"] or st.get("shape"), st["field"]))
    return out


_schema = []


def validate_report(c, rep, what):
    """Checks with Checker c that JSON report rep validates against formats/report.schema.json
    (what names it in a failure); a missing python3-jsonschema is a failure too."""
    try:
        import jsonschema
    except ImportError:
        c.check(False, "python3-jsonschema is installed (tests/deps.sh installs it)")
        return
    if not _schema:
        with open(os.path.join(SRC, "formats", "report.schema.json")) as f:
            _schema.append(json.load(f))
    try:
        jsonschema.validate(rep, _schema[0])
    except jsonschema.ValidationError as e:
        c.check(False, "%s: report validates against the schema: %s at %s" % (
            what, e.message[:300], "/".join(str(x) for x in e.absolute_path)))


def read_gohd(raw, contents=False):
    """Parses a Go runtime heap dump (the HEAPDUMP section of a .hsd) independently of the C
    reader, following runtime/heapdump.go: a dict with "objects" {addr: (size, (pointer
    offsets))}, "data"/"bss" (addr, size, (pointer offsets)), "goroutines" {goid: (status,
    frames)}, "frames", "finalizers" and "qfinalizers" {obj: fn}, "itabs" {itab: type},
    "threads", "buckets" {bucket: (size, ((func, file, line), ...), allocs, frees)}, "samples"
    {obj: bucket}, "params" (goarch, goversion) and "counts" {tag: records}; with contents, also
    "contents" {addr: bytes} of the objects."""
    assert raw[:16] == b"go1.7 heap dump\n", "no heap dump magic"
    i = 16
    d = {"objects": {}, "contents": {}, "buckets": {}, "samples": {}, "goroutines": {}, "frames": 0, "finalizers": {}, "qfinalizers": {},
         "itabs": {}, "threads": 0, "counts": {}}

    def v():
        nonlocal i
        x, i = varint(raw, i)
        return x

    def s():
        nonlocal i
        n = v()
        b = raw[i:i + n]
        i += n
        return b

    def fields():
        out = []
        while True:
            k = v()
            if k == 0:
                return tuple(out)
            out.append(v())

    goid = None
    while True:
        tag = v()
        d["counts"][tag] = d["counts"].get(tag, 0) + 1
        if tag == 0:
            return d
        if tag == 1:
            a, b = v(), s()
            d["objects"][a] = (len(b), fields())
            if contents:
                d["contents"][a] = b
        elif tag == 2:
            s(), v()
        elif tag == 3:
            v(), v(), s(), v()
        elif tag == 4:
            vals = [v(), v(), v(), v(), v(), v(), v(), v()]
            s()
            v(), v(), v(), v()
            goid = vals[2]
            d["goroutines"][goid] = [vals[4], 0]
        elif tag == 5:
            v(), v(), v(), s(), v(), v(), v(), s(), fields()
            d["frames"] += 1
            d["goroutines"][goid][1] += 1
        elif tag == 6:
            v(), v(), v(), v()
            arch, ver = s(), s()
            v()
            d["params"] = (arch.decode(), ver.decode())
        elif tag in (7, 11):
            obj, fn = v(), v()
            v(), v(), v()
            d["finalizers" if tag == 7 else "qfinalizers"][obj] = fn
        elif tag == 8:
            a = v()
            d["itabs"][a] = v()
        elif tag == 9:
            v(), v(), v()
            d["threads"] += 1
        elif tag == 10:
            for _ in range(24 + 256 + 1):
                v()
        elif tag in (12, 13):
            a, b = v(), s()
            d["data" if tag == 12 else "bss"] = (a, len(b), fields())
        elif tag == 14:
            for _ in range(7):
                v()
        elif tag == 15:
            for _ in range(6):
                v()
        elif tag == 16:
            b, size = v(), v()
            stack = tuple((s(), s(), v()) for _ in range(v()))
            d["buckets"][b] = (size, stack, v(), v())
        elif tag == 17:
            obj = v()
            d["samples"][obj] = v()
        else:
            raise AssertionError("unknown heap dump tag %d at byte %d" % (tag, i))
