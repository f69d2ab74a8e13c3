"""The heap model on synthetic dumps whose objects arrive out of address order, as the runtime
writes them (span by span, spans in any order): the model must sort them, resolve pointers to
the right objects, and drop an object that overlaps its predecessor (a dump the runtime
cannot have written) instead of trusting it.

Each dump is written here byte by byte (runtime/heapdump.go's record layout), so the truth is
known exactly: a chain of objects, each pointing at the next by address, held by one root.
Its head must retain the whole chain, which only holds when every pointer was resolved to the
right object after the sort."""
import os
import random
import sys

import hstest

# The record encoding (uvarints, length-prefixed strings) the broken-dump corpus is written with.
sys.path.insert(0, os.path.join(hstest.SRC, "tests", "broken", "gohd"))
from make_broken import s, uv  # noqa: E402

c = hstest.Checker("test_model_order")
tmp = hstest.tempdir()

HEAP_LO, HEAP_HI = 0xC000000000, 0xC004000000


def obj(addr, size, ptrs):
    """An object record: contents with the given (offset, value) pointer words."""
    body = bytearray(size)
    fields = b""
    for off, val in ptrs:
        body[off:off + 8] = val.to_bytes(8, "little")
        fields += uv(1) + uv(off)
    return uv(1) + uv(addr) + s(bytes(body)) + fields + uv(0)


def dump(objects, root):
    params = uv(6) + uv(0) + uv(8) + uv(HEAP_LO) + uv(HEAP_HI) + s(b"amd64") + s(b"go1.19.8") + uv(2)
    other_root = uv(2) + s(b"test root") + uv(root)
    return b"go1.7 heap dump\n" + params + b"".join(objects) + other_root + uv(0)


def write(name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def analyze(path):
    return hstest.heapsift_json(["analyze", path, "--json", "-"])["summary"]


def show(path, addr):
    p = hstest.run([hstest.HEAPSIFT, "show", path, "0x%x" % addr])
    c.eq(p.returncode, 0, "show 0x%x exits 0 (%s)" % (addr, p.stderr.strip()))
    return p.stdout


def retained_line(text):
    return next((l.split(None, 1)[1] for l in text.splitlines() if l.startswith("retained")), "")


# 1. Overlap: B lies inside A and arrives after it; C arrives first. B must be dropped, A and
#    C kept, and A's pointer must reach C.
A, B, C = HEAP_LO + 0x10000, HEAP_LO + 0x10020, HEAP_LO + 0x10040
path = write("overlap.dump", dump([obj(C, 16, []), obj(A, 64, [(0, C)]), obj(B, 32, [(0, C)])], A))
summary = analyze(path)
c.eq(summary["objects"], 2, "the overlapping object is dropped")
c.eq(summary["pointer_edges"], 2, "A -> C and the root's edge to A")
text = show(path, B + 8)
c.check(text.startswith("object      0x%x" % A), "an address inside B resolves to A:\n" + text)
c.check("pointer fields (1)" in show(path, A), "A keeps its pointer to C")
c.check("referred to by (1)" in show(path, C), "C is referred to by A only")

# 2. Many objects (enough for the model's passes to split over threads), 16-byte slots in
#    8 KiB spans that arrive in shuffled order, objects in address order within a span; each
#    points at the next object by address (at a varying interior offset: interior pointers
#    resolve to the containing object).
SPAN, SLOT, SPANS = 8192, 16, 300
per_span = SPAN // SLOT
n = SPANS * per_span
base = HEAP_LO + 0x100000
order = list(range(SPANS))
random.Random(7).shuffle(order)
recs = []
for sp in order:
    for k in range(per_span):
        i = sp * per_span + k
        addr = base + i * SLOT
        ptrs = [(0, base + (i + 1) * SLOT + (i % 2) * 8)] if i + 1 < n else []
        recs.append(obj(addr, SLOT, ptrs))
path = write("spans.dump", dump(recs, base))
summary = analyze(path)
c.eq(summary["objects"], n, "every object is kept")
c.eq(summary["in_use_objects"], n, "the whole chain is reachable from the root")
c.eq(summary["pointer_edges"], n, "n - 1 chain edges and the root's")
text = show(path, base)
c.check("retained    %s" % retained_line(text) in text and
        retained_line(text).replace(" ", "") in ("%.1fMiB" % (n * SLOT / 1048576.0),
                                                 "%dKiB" % (n * SLOT // 1024)),
        "the head retains the whole chain (%d objects, %d bytes): got %r" %
        (n, n * SLOT, retained_line(text)))
for i in random.Random(11).sample(range(1, n - 1), 5):
    addr = base + i * SLOT
    text = show(path, addr + 4)
    c.check(text.startswith("object      0x%x" % addr), "0x%x + 4 resolves to its object" % addr)
    prev = base + (i - 1) * SLOT
    c.check("0x%x" % prev in text.split("referred to by", 1)[-1],
            "object %d is referred to by object %d" % (i, i - 1))

c.done()
