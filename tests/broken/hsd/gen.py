#!/usr/bin/env python3
"""Generates the broken .hsd corpus (see README.md) with a writer written from formats/HSD.md
alone, independent of formats/hsd_*.c. Also writes valid.hsd, which the C reader must accept, so
the two implementations check each other. Deterministic: run it from anywhere, it writes next
to itself and rewrites EXPECTED."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
crc = zlib.crc32


def chunk(raw, **kw):
    """A chunk description; kw overrides computed fields (raw_len, raw_crc, stored, ...)."""
    c = {"raw": raw, "stored": zlib.compress(raw, 1)}
    c.update(kw)
    c.setdefault("raw_len", len(c["raw"]))
    c.setdefault("raw_crc", crc(c["raw"]))
    c.setdefault("stored_crc", crc(c["stored"]))
    return c


def build(sections, version=2, flags=0, index_edit=None, trailer_edit=None, entry_edit=None,
          fix_index_crc=True):
    """sections: list of (type, name bytes, [chunks]). The *_edit hooks patch bytes before the
    CRCs that cover them are computed, so only the intended field is wrong."""
    head = b"HEAPSIFT" + struct.pack("<III", version, 24, flags)
    out = bytearray(head + struct.pack("<I", crc(head)))
    entries = []
    for si, (_, _, chunks) in enumerate(sections):
        for c in chunks:
            h = b"HSDC" + struct.pack("<IIIIII", si, c["raw_len"], len(c["stored"]),
                                      c["raw_crc"], c["stored_crc"], 0)
            entries.append([len(out), c["raw_len"], len(c["stored"]), c["raw_crc"],
                            c["stored_crc"]])
            out += h + struct.pack("<I", crc(h)) + c["stored"]
    if entry_edit:
        entry_edit(entries)
    ix = bytearray(b"HSDI" + struct.pack("<IQ", len(sections), len(entries)))
    for typ, name, chunks in sections:
        ix += struct.pack("<IIQQII", typ, len(chunks), sum(c["raw_len"] for c in chunks),
                          sum(len(c["stored"]) for c in chunks), len(name), 0) + name
    for e in entries:
        ix += struct.pack("<QIIII", *e)
    if index_edit:
        index_edit(ix)
    ix_off = len(out)
    out += ix
    t = bytearray(struct.pack("<QQI", ix_off, len(ix), crc(bytes(ix)) if fix_index_crc else 0))
    if trailer_edit:
        trailer_edit(t)
    t += struct.pack("<I", crc(bytes(t))) + b"HSD-END\n"
    return bytes(out + t)


def heapish(n, seed=1):
    """Deterministic heap-dump-like bytes."""
    out = bytearray()
    x = seed
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        out += bytes([1]) + struct.pack("<Q", 0xC000000000 + (x >> 40) * 16)[:5] + bytes(10)
    return bytes(out[:n])


META = b'{"pid": 42, "exe": "/tmp/prog", "go": "go1.19.8"}'
HD = heapish(5000)
GOOD = [(1, b"meta", [chunk(META)]),
        (3, b"", []),
        (4, b"heapdump", [chunk(HD[:2048]), chunk(HD[2048:4096]), chunk(HD[4096:])])]


def poke(data, off, value):
    b = bytearray(data)
    b[off] ^= value
    return bytes(b)


def set32(buf, off, v):
    buf[off:off + 4] = struct.pack("<I", v)


def set64(buf, off, v):
    buf[off:off + 8] = struct.pack("<Q", v)


def main():
    good = build(GOOD)
    first = 24  # first chunk header
    meta_stored = len(GOOD[0][2][0]["stored"])
    hd0 = first + 32 + meta_stored  # heapdump chunk 0
    ix_off = struct.unpack_from("<Q", good, len(good) - 32)[0]
    zeros = bytes(1 << 20)

    cases = [
        # name, bytes, expected status, what it checks
        ("valid.hsd", good, "ok"),
        ("empty.hsd", b"", "truncated"),
        ("header-only.hsd", good[:24], "truncated"),
        ("truncated-in-chunk.hsd", good[:hd0 + 40], "truncated"),
        ("truncated-in-index.hsd", good[:ix_off + 20], "truncated"),
        ("truncated-trailer.hsd", good[:-3], "truncated"),
        ("bad-magic.hsd", b"HEAPSIFX" + good[8:], "format"),
        ("version-3.hsd", build(GOOD, version=3), "unsupported"),
        ("version-0.hsd", build(GOOD, version=0), "unsupported"),
        ("valid-v1.hsd", build(GOOD, version=1), "ok"),
        ("unknown-flags.hsd", build(GOOD, flags=4), "unsupported"),
        ("header-crc.hsd", poke(good, 13, 0x01), "crc"),
        ("index-crc.hsd", poke(good, ix_off + 20, 0x01), "crc"),
        ("trailer-crc.hsd", poke(good, len(good) - 30, 0x01), "crc"),
        ("chunk-header-crc.hsd", poke(good, hd0 + 24, 0x01), "crc"),
        ("stored-crc.hsd", poke(good, hd0 + 32 + 10, 0x04), "crc"),
        ("raw-crc.hsd", build([(4, b"", [chunk(HD, raw_crc=crc(HD) ^ 1)])]), "crc"),
        ("bomb.hsd", build([(4, b"", [chunk(zeros[:4096], stored=zlib.compress(zeros, 9))])]),
         "format"),
        ("short-inflate.hsd",
         build([(4, b"", [chunk(HD[:1000], raw_len=2000)])]), "format"),
        ("stray-bytes.hsd",
         build([(4, b"", [chunk(HD, stored=zlib.compress(HD, 1) + b"\0\0")])]), "format"),
        ("not-zlib.hsd", build([(4, b"", [chunk(HD, stored=HD[:3000])])]), "zlib"),
        ("raw-len-zero.hsd", build([(4, b"", [chunk(b"", stored=zlib.compress(b""))])]),
         "format"),
        ("raw-len-huge.hsd", build([(4, b"", [chunk(HD, raw_len=0x80000000)])]), "format"),
        ("index-off-wrong.hsd", build(GOOD, trailer_edit=lambda t: set64(t, 0, 7)), "format"),
        ("index-len-wrong.hsd",
         build(GOOD, trailer_edit=lambda t: set64(t, 8, 2**64 - 5)), "format"),
        ("nsections-huge.hsd", build(GOOD, index_edit=lambda ix: set32(ix, 4, 0xFFFFFFFF)),
         "limit"),
        ("nchunks-huge.hsd", build(GOOD, index_edit=lambda ix: set64(ix, 8, 2**60)), "format"),
        ("name-too-long.hsd", build([(1, b"x" * 64, [chunk(META)])]), "format"),
        ("name-nul.hsd", build([(1, b"a\0b", [chunk(META)])]), "format"),
        ("type-zero.hsd", build([(0, b"", [chunk(META)])]), "format"),
        ("overlap.hsd",
         build(GOOD, entry_edit=lambda es: es[2].__setitem__(0, es[1][0] + 8)), "format"),
        ("offset-outside.hsd",
         build(GOOD, entry_edit=lambda es: es[3].__setitem__(0, 2**63)), "format"),
        ("chunk-moved.hsd",  # index points at the next chunk's header: headers disagree
         build(GOOD, entry_edit=lambda es: es[1].__setitem__(0, es[2][0])), "format"),
        ("section-size-wrong.hsd",
         build(GOOD, index_edit=lambda ix: set64(ix, 16 + 8, 999)), "format"),
    ]
    for old in os.listdir(HERE):
        if old.endswith(".hsd"):
            os.remove(os.path.join(HERE, old))
    with open(os.path.join(HERE, "EXPECTED"), "w") as f:
        f.write("# file expected-status (written by gen.py; 'ok' files must read cleanly)\n")
        for name, data, status in cases:
            with open(os.path.join(HERE, name), "wb") as out:
                out.write(data)
            f.write(f"{name} {status}\n")


if __name__ == "__main__":
    main()
