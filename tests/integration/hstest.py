"""Shared helpers for heapsift's integration tests: paths from the Meson test environment,
Go builds cached in the build tree, running the CLIs, and a checker that counts failures."""
import json
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
