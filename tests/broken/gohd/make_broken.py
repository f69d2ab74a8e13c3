#!/usr/bin/env python3
"""Regenerates the broken Go heap dumps in this folder (run: python3 make_broken.py).

Each file is a tiny "go1.7 heap dump\\n" stream with one defect; README.md says which.
tests/unit/test_gohd.c runs the reader over every *.bin here and expects a clean error.
"""
import os

HDR = b"go1.7 heap dump\n"


def uv(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def s(b):
    return uv(len(b)) + b


PARAMS = uv(6) + uv(0) + uv(8) + uv(0xC000000000) + uv(0xC004000000) + s(b"amd64") + s(b"go1.19.8") + uv(2)
OBJ = uv(1) + uv(0xC000010000) + s(bytes(16)) + uv(1) + uv(0) + uv(0)

FILES = {
    "empty.bin": b"",
    "bad-magic.bin": b"go1.7 heap dumX\n" + uv(0),
    "old-header-go1.4.bin": b"go1.4 heap dump\n" + uv(0),
    "truncated-header.bin": HDR[:9],
    "truncated-varint.bin": HDR + uv(1) + b"\x80\x80",
    "varint-11-bytes.bin": HDR + uv(1) + b"\xff" * 10 + b"\x01" + uv(0),
    "varint-overflow.bin": HDR + uv(1) + b"\xff" * 9 + b"\x02" + uv(0),
    "length-past-end.bin": HDR + PARAMS + uv(1) + uv(0xC000010000) + uv(99999) + bytes(5),
    "fake-3gib-contents.bin": HDR + uv(1) + uv(0xC000010000) + uv(3 << 30) + bytes(64),
    "memrange-2pow40.bin": HDR + uv(5) + uv(0xC000100000) + uv(0) + uv(0) + uv(1 << 40) + bytes(8),
    "fieldlist-unterminated.bin": HDR + uv(1) + uv(0xC000010000) + s(bytes(32)) + uv(1) + uv(8) + uv(1) + uv(16),
    "field-kind-7.bin": HDR + uv(1) + uv(0xC000010000) + s(bytes(16)) + uv(7) + uv(8) + uv(0) + uv(0),
    "unknown-tag-99.bin": HDR + PARAMS + uv(99) + uv(0),
    "missing-eof.bin": HDR + PARAMS + OBJ,
    "memprof-huge-nstk.bin": HDR + uv(16) + uv(0xC000200000) + uv(64) + uv(1 << 50) + s(b"main.f") + s(b"x.go") + uv(1),
    "memprof-nstk-past-end.bin": HDR + uv(16) + uv(0xC000200000) + uv(64) + uv(1000000) + (s(b"main.f") + s(b"x.go") + uv(1)) * 2,
    "bool-7.bin": HDR + uv(6) + uv(7) + uv(8) + uv(0) + uv(0) + s(b"amd64") + s(b"go1.19") + uv(1) + uv(0),
    "ptrsize-3.bin": HDR + uv(6) + uv(0) + uv(3) + uv(0) + uv(0) + s(b"amd64") + s(b"go1.19") + uv(1) + uv(0),
    "string-past-end.bin": HDR + uv(3) + uv(0x4A0000) + uv(16) + uv(200) + b"main.T",
}

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    for name, data in FILES.items():
        with open(os.path.join(here, name), "wb") as f:
            f.write(data)
