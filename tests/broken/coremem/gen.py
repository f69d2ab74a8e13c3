#!/usr/bin/env python3
"""Generates the broken ELF core corpus (see README.md) with a core writer written from the ELF
and Linux core layouts (<elf.h>, <sys/procfs.h>, fs/binfmt_elf.c) alone, independent of
formats/coremem.c. The valid-*.core files must read cleanly, so the two check each other.
tests/fuzz/gen_core_seeds.py uses the writer (Core) for the fuzz seeds.

Deterministic: run it from anywhere, it writes next to itself and rewrites EXPECTED.
    python3 tests/broken/coremem/gen.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

ET_EXEC, ET_CORE = 2, 4
EM_X86_64, EM_AARCH64 = 62, 183
PT_LOAD, PT_NOTE = 1, 4
PF_X, PF_W, PF_R = 1, 2, 4
NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE = 1, 3, 6, 0x46494C45
AT_NULL, AT_PHDR, AT_PAGESZ, AT_ENTRY = 0, 3, 6, 9
PN_XNUM = 0xFFFF
EHDR, PHDR, SHDR = 64, 56, 64


def pad(b, a):
    return b + b"\0" * ((-len(b)) % a)


def note(name, ntype, desc, align=4):
    n = name.encode() + b"\0"
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n, align) + pad(desc, align)


def prstatus(tid, sig=0, rip=0, rsp=0, rbp=0, fs_base=0):
    """struct elf_prstatus (x86_64, 336 bytes): pr_cursig at 12, pr_pid at 32, pr_reg at 112."""
    b = bytearray(336)
    struct.pack_into("<h", b, 12, sig)
    struct.pack_into("<i", b, 32, tid)
    regs = [0] * 27  # user_regs_struct
    regs[4], regs[16], regs[19], regs[21] = rbp, rip, rsp, fs_base
    struct.pack_into("<27Q", b, 112, *regs)
    return bytes(b)


def prpsinfo(pid, fname):
    """struct elf_prpsinfo (x86_64, 136 bytes): pr_pid at 24, pr_fname[16] at 40."""
    b = bytearray(136)
    struct.pack_into("<i", b, 24, pid)
    f = fname.encode()[:16]
    b[40:40 + len(f)] = f
    return bytes(b)


def auxv(pairs):
    return b"".join(struct.pack("<QQ", t, v) for t, v in pairs + [(AT_NULL, 0)])


def nt_file(page, entries):
    """entries: (start, end, page offset, path)."""
    b = struct.pack("<QQ", len(entries), page)
    b += b"".join(struct.pack("<QQQ", s, e, o) for s, e, o, _ in entries)
    return b + b"".join(p.encode() + b"\0" for _, _, _, p in entries)


class Core:
    """An x86_64 Linux core: notes, then loads (vaddr, memsz, bytes held, p_flags). build()
    lays it out like the kernel (header, program headers, notes, segment bytes) and returns
    the bytes; the offsets of its parts are left in self.at for the broken variants."""

    def __init__(self, pid=4242, comm="victim", threads=2, align=4):
        self.align = align
        exe, lib = "/usr/local/bin/victim", "/usr/lib/x86_64-linux-gnu/libc.so.6"
        self.notes = [("CORE", NT_PRSTATUS, prstatus(pid, 11, 0x401234, 0x7ffc00001f00,
                                                     0x7ffc00001f40, 0x7f1200000740))]
        self.notes.append(("CORE", NT_PRPSINFO, prpsinfo(pid, comm)))
        self.notes.append(("CORE", NT_AUXV, auxv([(AT_PAGESZ, 4096), (AT_PHDR, 0x400040),
                                                  (AT_ENTRY, 0x401000)])))
        self.notes.append(("CORE", NT_FILE, nt_file(4096, [
            (0x400000, 0x401000, 0, exe), (0x401000, 0x402000, 1, exe),
            (0x7f1200001000, 0x7f1200003000, 0, lib)])))
        self.notes.append(("LINUX", 0x202, b"\0" * 64))  # NT_X86_XSTATE: not read
        for i in range(1, threads):
            self.notes.append(("CORE", NT_PRSTATUS, prstatus(pid + i, 0, 0x401300 + i,
                                                             0x7f1200100000 * i + 0xf00)))
        self.loads = [
            (0x400000, 0x1000, bytes(range(256)), PF_R),  # header page: partly held
            (0x401000, 0x1000, b"\xc3" * 64, PF_R | PF_X),
            (0x402000, 0x100, bytes((i * 7) & 0xFF for i in range(0x100)), PF_R | PF_W),
            (0x402100, 0x700, b"GOHEAP" * 50, PF_R | PF_W),  # adjacent to the one before
            (0x7f1200001000, 0x2000, b"", PF_R | PF_X),  # a library's text: not dumped
            (0x7ffc00001000, 0x1000, b"\x11" * 0x100, PF_R | PF_W),  # stack, partly held
        ]
        self.pn_xnum = False
        self.e_type, self.machine = ET_CORE, EM_X86_64
        self.at = {}

    def build(self):
        notes = b""
        self.at["notes"] = []
        nphdr = 1 + len(self.loads)
        note_off = EHDR + nphdr * PHDR
        for name, t, desc in self.notes:
            self.at["notes"].append(note_off + len(notes))
            notes += note(name, t, desc, self.align)
        off = note_off + len(notes)
        self.at["notes_end"] = off
        phdrs = struct.pack("<IIQQQQQQ", PT_NOTE, 0, note_off, 0, 0, len(notes), 0, self.align)
        data = b""
        self.at["loads"] = []
        for vaddr, memsz, held, flags in self.loads:
            gap = (-(off + len(data))) % 16
            data += b"\0" * gap
            foff = off + len(data)
            self.at["loads"].append(foff)
            phdrs += struct.pack("<IIQQQQQQ", PT_LOAD, flags, foff, vaddr, 0, len(held), memsz,
                                 4096)
            data += held
        shoff, shnum = 0, 0
        tail = b""
        if self.pn_xnum:
            shoff, shnum = off + len(data), 1
            tail = struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, nphdr, 0, 0)
        ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
        ehdr = ident + struct.pack("<HHIQQQIHHHHHH", self.e_type, self.machine, 1, 0, EHDR,
                                   shoff, 0, EHDR, PHDR,
                                   PN_XNUM if self.pn_xnum else nphdr, SHDR, shnum, 0)
        self.at["phdrs"] = EHDR
        return bytearray(ehdr + phdrs + notes + data + tail)

    def phdr(self, i):
        """Offset of program header i (0 is PT_NOTE)."""
        return EHDR + i * PHDR


def desc_at(c, i):
    """Offset of note i's payload."""
    name = c.notes[i][0].encode() + b"\0"
    return c.at["notes"][i] + 12 + len(pad(name, c.align))


def put(b, off, fmt, *v):
    struct.pack_into(fmt, b, off, *v)
    return b


def cases():
    """(file, status, offset or 'size', bytes)."""
    out = []

    def add(name, status, off, data):
        out.append((name, status, off, bytes(data)))

    c = Core()
    good = c.build()
    add("valid.core", "ok", "-", good)
    x = Core(threads=4, align=8)
    add("valid-align8.core", "ok", "-", x.build())
    x = Core(threads=1)
    x.pn_xnum = True
    add("valid-pn-xnum.core", "ok", "-", x.build())

    add("empty.core", "truncated", 0, b"")
    add("not-elf.core", "format", 0, b"#!/bin/sh\necho not a core\n")
    add("ident-only.core", "truncated", 16, good[:16])
    add("elf32.core", "unsupported", 4, put(bytearray(good), 4, "<B", 1))
    add("big-endian.core", "unsupported", 5, put(bytearray(good), 5, "<B", 2))
    add("exec-not-core.core", "format", 16, put(bytearray(good), 16, "<H", ET_EXEC))
    add("aarch64.core", "unsupported", 18, put(bytearray(good), 18, "<H", EM_AARCH64))
    add("phentsize-32.core", "format", 54, put(bytearray(good), 54, "<H", 32))
    add("no-phdrs.core", "format", 56, put(bytearray(good), 56, "<H", 0))
    add("phdrs-past-end.core", "truncated", "size", put(bytearray(good), 56, "<H", 300))
    b = put(bytearray(good), 56, "<H", PN_XNUM)
    add("pn-xnum-shoff-past-end.core", "truncated", "size", put(b, 40, "<Q", len(good) + 8))
    add("note-past-end.core", "truncated", "size",
        put(bytearray(good), c.phdr(0) + 32, "<Q", len(good)))
    add("note-desc-past-segment.core", "format", c.at["notes"][1],
        put(bytearray(good), c.at["notes"][1] + 4, "<I", 0xFFFFFF00))
    first = c.at["notes"][0]
    b = put(bytearray(good), c.phdr(0) + 32, "<Q", c.at["notes_end"] - first + 5)
    add("note-header-cut.core", "format", c.at["notes_end"], b)
    b = put(bytearray(good), first + 4, "<I", 100)
    add("prstatus-short.core", "format", first, b)
    add("prpsinfo-short.core", "format", c.at["notes"][1],
        put(bytearray(good), c.at["notes"][1] + 4, "<I", 40))
    d = desc_at(c, 3)
    add("ntfile-count-huge.core", "format", d, put(bytearray(good), d, "<Q", 1 << 40))
    b = bytearray(good)
    end = d + len(c.notes[3][2])
    b[end - 1] = ord("x")  # the last path's NUL
    add("ntfile-path-no-nul.core", "format", d + 16 + 3 * 24 + 2 * 22, b)
    add("ntfile-pgoff-overflow.core", "format", d + 16 + 24,
        put(bytearray(good), d + 16 + 24 + 16, "<Q", 1 << 60))
    last = c.at["loads"][5] + len(c.loads[5][2])
    add("load-past-end.core", "truncated", "size", good[:last - 10])
    add("load-offset-overflow.core", "format", c.phdr(3) + 8,
        put(bytearray(good), c.phdr(3) + 8, "<Q", (1 << 64) - 16))
    add("load-filesz-gt-memsz.core", "format", c.phdr(1) + 32,
        put(bytearray(good), c.phdr(1) + 40, "<Q", 0x80))
    add("load-wraps.core", "format", c.phdr(6) + 16,
        put(bytearray(good), c.phdr(6) + 16, "<Q", (1 << 64) - 0x800))
    # load 3 moved onto load 2: both named; the later header is the offset
    add("loads-overlap.core", "format", c.phdr(4),
        put(bytearray(good), c.phdr(4) + 16, "<Q", 0x401f80))
    return out


def main():
    for f in os.listdir(HERE):
        if f.endswith(".core"):
            os.remove(os.path.join(HERE, f))
    lines = ["# file expected-status offset (written by gen.py; 'size' = the file's size, "
             "'ok' files must read cleanly)"]
    for name, status, off, data in cases():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        lines.append("%s %s %s" % (name, status, off))
    with open(os.path.join(HERE, "EXPECTED"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
