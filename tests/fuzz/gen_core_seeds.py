#!/usr/bin/env python3
"""Writes the seeds of fuzz_coremem (tests/fuzz/corpus/fuzz_coremem/): little x86_64 Linux
cores made with the writer of tests/broken/coremem/gen.py (valid variants: threads, note
alignment, PN_XNUM, many segments, notes after the segments as gdb's gcore writes them), the
broken cores of tests/broken/coremem, and, given a real core, a shrunk copy of it.

Run: python3 tests/fuzz/gen_core_seeds.py [REAL_CORE]
Deterministic without REAL_CORE; rewrites every seed-* file except seed-real-*, which only a
REAL_CORE argument replaces (its notes kept whole, each PT_LOAD cut to 128 bytes held).
"""
import importlib.util
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BROKEN = os.path.join(HERE, "..", "broken", "coremem")
OUT = os.path.join(HERE, "corpus", "fuzz_coremem")

spec = importlib.util.spec_from_file_location("core_gen", os.path.join(BROKEN, "gen.py"))
g = importlib.util.module_from_spec(spec)
spec.loader.exec_module(g)


def many_loads():
    c = g.Core(threads=3)
    loads = []
    addr = 0x10000
    for i in range(40):
        memsz = 0x1000 * (1 + i % 3)
        held = bytes((i + k) & 0xFF for k in range(16 * (i % 5)))
        loads.append((addr, memsz, held, g.PF_R | (g.PF_W if i % 2 else g.PF_X)))
        addr += memsz if i % 4 else memsz + 0x1000  # runs of adjacent segments
    c.loads = loads
    return c.build()


def notes_last():
    """gcore's layout: the segments' bytes first, the PT_NOTE (p_align 1) at the end."""
    c = g.Core(threads=2)
    b = c.build()
    off, size = c.at["notes"][0], c.at["notes_end"] - c.at["notes"][0]
    notes = bytes(b[off:off + size])
    b += notes
    struct.pack_into("<QQQQ", b, c.phdr(0) + 8, len(b) - size, 0, 0, size)
    struct.pack_into("<Q", b, c.phdr(0) + 48, 1)
    return b


def only_linux_notes():
    c = g.Core()
    c.notes = [n for n in c.notes if n[0] == "LINUX"]
    return c.build()


def shrink(path, keep=128):
    """A real core with every PT_LOAD cut to `keep` bytes held; notes kept whole."""
    with open(path, "rb") as f:
        d = f.read()
    phoff, = struct.unpack_from("<Q", d, 32)
    phnum, = struct.unpack_from("<H", d, 56)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", d, phoff + i * 56)) for i in range(phnum)]
    body = bytearray()
    start = 64 + phnum * 56
    for h in phdrs:
        typ, off, filesz = h[0], h[2], h[5]
        if typ == g.PT_LOAD:
            filesz = min(filesz, keep)
        h[2], h[5] = start + len(body), filesz
        body += d[off:off + filesz]
        body += b"\0" * ((-len(body)) % 8)
    ehdr = bytearray(d[:64])
    struct.pack_into("<Q", ehdr, 32, 64)  # phoff
    struct.pack_into("<QHHH", ehdr, 40, 0, 64, 0, 0)  # no section headers
    struct.pack_into("<H", ehdr, 54, 56)
    return bytes(ehdr) + b"".join(struct.pack("<IIQQQQQQ", *h) for h in phdrs) + bytes(body)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith("seed-") and not f.startswith("seed-real-"):
            os.remove(os.path.join(OUT, f))
    seeds = {"seed-valid.core": g.Core().build()}
    c = g.Core(threads=4, align=8)
    seeds["seed-align8-4threads.core"] = c.build()
    c = g.Core(threads=1)
    c.pn_xnum = True
    seeds["seed-pn-xnum.core"] = c.build()
    seeds["seed-many-loads.core"] = many_loads()
    seeds["seed-notes-last.core"] = notes_last()
    seeds["seed-only-linux-notes.core"] = only_linux_notes()
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    for f in sorted(os.listdir(BROKEN)):
        if f.endswith(".core") and not f.startswith("valid"):
            shutil.copy(os.path.join(BROKEN, f), os.path.join(OUT, "seed-broken-" + f))
    if len(sys.argv) > 1:
        with open(os.path.join(OUT, "seed-real-shrunk.core"), "wb") as f:
            f.write(shrink(sys.argv[1]))


if __name__ == "__main__":
    main()
