package main

// A small reader of the runtime's heap dump (runtime/heapdump.go's record formats), enough to
// check a manifest against the dump it describes: object contents (identity words), pointer
// fields, the roots, and reachability as the GC sees it. The analyzer has the real one.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

const dumpMagic = "go1.7 heap dump\n"

// Field kinds of a field list (runtime/heapdump.go).
const (
	fieldKindEol   = 0
	fieldKindPtr   = 1
	fieldKindIface = 2
	fieldKindEface = 3
)

// dumpObject is one object record: a size-class slot (from Go 1.22 a slot starts with the
// 8-byte malloc header for objects with pointers above 512 bytes). From Go 1.22 the dump
// also has records for the slots at the end of small-object spans with pointers (slot index
// >= (8192-128)/size) that overlap the span's heap bitmap: they are not objects; nothing
// points to them, and nothing here relies on their contents or fields.
type dumpObject struct {
	addr uint64
	data []byte
	ptrs []uint32 // offsets of pointer words (from the field list)
}

type dumpSegment struct {
	addr uint64
	data []byte
	ptrs []uint32
}

type dumpFinalizer struct {
	obj, fn, pc uint64
	queued      bool
}

type dumpGoroutine struct {
	gopc, status, ctxt uint64
}

type heapDump struct {
	objects    []dumpObject // sorted by address
	index      map[uint64]int
	finalizers []dumpFinalizer
	goroutines []dumpGoroutine
	frames     []dumpSegment
	data, bss  dumpSegment
	otherRoots []uint64
	miscRoots  []uint64 // defer and panic record words: treated as roots, conservatively
	goVersion  string
	ptrSize    uint64
}

type dumpReader struct {
	b   []byte
	off int
}

func (d *dumpReader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, fmt.Errorf("offset %d: bad varint", d.off)
	}
	d.off += n
	return v, nil
}

func (d *dumpReader) ints(n int) ([]uint64, error) {
	out := make([]uint64, n)
	for i := range out {
		v, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// bytes reads a length-prefixed string or memory range; the result aliases the dump.
func (d *dumpReader) bytes() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(d.b)-d.off) {
		return nil, fmt.Errorf("offset %d: length %d past the end", d.off, n)
	}
	b := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return b, nil
}

// fields reads a field list and returns its pointer offsets (an interface's data word).
func (d *dumpReader) fields() ([]uint32, error) {
	var ptrs []uint32
	for {
		k, err := d.uvarint()
		if err != nil || k == fieldKindEol {
			return ptrs, err
		}
		off, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		switch k {
		case fieldKindPtr:
			ptrs = append(ptrs, uint32(off))
		case fieldKindIface, fieldKindEface:
			ptrs = append(ptrs, uint32(off+8))
		default:
			return nil, fmt.Errorf("offset %d: field kind %d", d.off, k)
		}
	}
}

func readDump(data []byte) (*heapDump, error) {
	if !bytes.HasPrefix(data, []byte(dumpMagic)) {
		return nil, errors.New("no heap dump magic")
	}
	d := &dumpReader{b: data, off: len(dumpMagic)}
	h := &heapDump{index: map[uint64]int{}, ptrSize: 8}
	for {
		tag, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		var v []uint64
		switch tag {
		case 0:
			if d.off != len(data) {
				return nil, fmt.Errorf("EOF record at %d of %d", d.off, len(data))
			}
			return h, h.finish()
		case 1: // object
			if v, err = d.ints(1); err != nil {
				return nil, err
			}
			o := dumpObject{addr: v[0]}
			if o.data, err = d.bytes(); err == nil {
				o.ptrs, err = d.fields()
			}
			h.objects = append(h.objects, o)
		case 2: // other root
			if _, err = d.bytes(); err == nil {
				var p uint64
				p, err = d.uvarint()
				h.otherRoots = append(h.otherRoots, p)
			}
		case 3: // type
			if _, err = d.ints(2); err == nil {
				if _, err = d.bytes(); err == nil {
					_, err = d.uvarint()
				}
			}
		case 4: // goroutine
			if v, err = d.ints(8); err == nil {
				var w []uint64
				if _, err = d.bytes(); err == nil {
					w, err = d.ints(4)
				}
				if err == nil {
					h.goroutines = append(h.goroutines, dumpGoroutine{gopc: v[3], status: v[4], ctxt: w[0]})
				}
			}
		case 5: // stack frame
			var f dumpSegment
			if v, err = d.ints(3); err == nil {
				f.addr = v[0]
				if f.data, err = d.bytes(); err == nil {
					if _, err = d.ints(3); err == nil {
						if _, err = d.bytes(); err == nil {
							f.ptrs, err = d.fields()
						}
					}
				}
			}
			h.frames = append(h.frames, f)
		case 6: // params
			if v, err = d.ints(4); err == nil {
				h.ptrSize = v[1]
				if v[0] != 0 || v[1] != 8 {
					return nil, fmt.Errorf("dump of a big-endian or non-64-bit process")
				}
				if _, err = d.bytes(); err == nil {
					var ver []byte
					if ver, err = d.bytes(); err == nil {
						h.goVersion = string(ver)
						_, err = d.uvarint()
					}
				}
			}
		case 7, 11: // finalizer, queued finalizer
			if v, err = d.ints(5); err == nil {
				h.finalizers = append(h.finalizers, dumpFinalizer{v[0], v[1], v[2], tag == 11})
			}
		case 8: // itab
			_, err = d.ints(2)
		case 9: // OS thread
			_, err = d.ints(3)
		case 10: // memstats
			_, err = d.ints(24 + 256 + 1)
		case 12, 13: // data, bss
			var s dumpSegment
			if v, err = d.ints(1); err == nil {
				s.addr = v[0]
				if s.data, err = d.bytes(); err == nil {
					s.ptrs, err = d.fields()
				}
			}
			if tag == 12 {
				h.data = s
			} else {
				h.bss = s
			}
		case 14: // defer: addr, gp, sp, pc, fn, fn.fn, link
			if v, err = d.ints(7); err == nil {
				h.miscRoots = append(h.miscRoots, v[0], v[4], v[6])
			}
		case 15: // panic: addr, gp, eface type, eface data, 0, link
			if v, err = d.ints(6); err == nil {
				h.miscRoots = append(h.miscRoots, v[0], v[3], v[5])
			}
		case 16: // memprof bucket
			if v, err = d.ints(3); err == nil {
				for i := uint64(0); i < v[2] && err == nil; i++ {
					if _, err = d.bytes(); err == nil {
						if _, err = d.bytes(); err == nil {
							_, err = d.uvarint()
						}
					}
				}
				if err == nil {
					_, err = d.ints(2)
				}
			}
		case 17: // alloc sample
			_, err = d.ints(2)
		default:
			return nil, fmt.Errorf("offset %d: unknown record tag %d", d.off, tag)
		}
		if err != nil {
			return nil, err
		}
	}
}

// finish sorts the objects and checks that no two overlap.
func (h *heapDump) finish() error {
	sort.Slice(h.objects, func(i, j int) bool { return h.objects[i].addr < h.objects[j].addr })
	for i := range h.objects {
		o := &h.objects[i]
		if i > 0 {
			prev := &h.objects[i-1]
			if prev.addr+uint64(len(prev.data)) > o.addr {
				return fmt.Errorf("objects %#x (%d bytes) and %#x overlap", prev.addr, len(prev.data), o.addr)
			}
		}
		h.index[o.addr] = i
	}
	return nil
}

func word(b []byte, off uint64) uint64 {
	if off+8 > uint64(len(b)) {
		return 0
	}
	return binary.LittleEndian.Uint64(b[off:])
}

// find returns the index of the object containing address p, or -1.
func (h *heapDump) find(p uint64) int {
	i := sort.Search(len(h.objects), func(i int) bool { return h.objects[i].addr > p }) - 1
	if i < 0 || p >= h.objects[i].addr+uint64(len(h.objects[i].data)) {
		return -1
	}
	return i
}

// segmentWord reads the word at address a from data or bss.
func (h *heapDump) segmentWord(a uint64) (uint64, bool) {
	for _, s := range []dumpSegment{h.data, h.bss} {
		if a >= s.addr && a+8 <= s.addr+uint64(len(s.data)) {
			return word(s.data, a-s.addr), true
		}
	}
	return 0, false
}

func (h *heapDump) inSegments(a uint64) bool {
	_, ok := h.segmentWord(a)
	return ok
}

// marker marks objects reachable from the words given to it.
type marker struct {
	h      *heapDump
	marked []bool
	stack  []int
}

func (h *heapDump) newMarker() *marker { return &marker{h: h, marked: make([]bool, len(h.objects))} }

func (m *marker) root(p uint64) {
	if i := m.h.find(p); i >= 0 && !m.marked[i] {
		m.marked[i] = true
		m.stack = append(m.stack, i)
	}
}

// rootsIn marks from the pointer words of a segment whose offsets lie in [lo, hi).
func (m *marker) rootsIn(s dumpSegment, lo, hi uint64) {
	for _, off := range s.ptrs {
		if uint64(off) >= lo && uint64(off) < hi {
			m.root(word(s.data, uint64(off)))
		}
	}
}

func (m *marker) drain() {
	for len(m.stack) > 0 {
		i := m.stack[len(m.stack)-1]
		m.stack = m.stack[:len(m.stack)-1]
		o := &m.h.objects[i]
		for _, off := range o.ptrs {
			m.root(word(o.data, uint64(off)))
		}
	}
}

// reachable marks what the GC retains: everything reachable from data, bss, stack frames,
// other roots, goroutine contexts, defer and panic records, finalizer functions, queued
// finalizers' objects, and the pointees of objects with a finalizer (not the object itself:
// like the GC's markrootSpans, pointers from such an object into itself do not count).
func (h *heapDump) reachable() []bool {
	m := h.newMarker()
	m.rootsIn(h.data, 0, ^uint64(0))
	m.rootsIn(h.bss, 0, ^uint64(0))
	for _, f := range h.frames {
		m.rootsIn(f, 0, ^uint64(0))
	}
	for _, p := range h.otherRoots {
		m.root(p)
	}
	for _, p := range h.miscRoots {
		m.root(p)
	}
	for _, g := range h.goroutines {
		m.root(g.ctxt)
	}
	for _, f := range h.finalizers {
		m.root(f.fn)
		if f.queued {
			m.root(f.obj)
			continue
		}
		if i := h.find(f.obj); i >= 0 {
			o := &h.objects[i]
			for _, off := range o.ptrs {
				p := word(o.data, uint64(off))
				if p < o.addr || p >= o.addr+uint64(len(o.data)) {
					m.root(p)
				}
			}
		}
	}
	m.drain()
	return m.marked
}

// reachableFrom marks what is reachable from the pointer words in [addr, addr+size) of a
// static segment or a heap object.
func (h *heapDump) reachableFrom(addr, size uint64) ([]bool, error) {
	m := h.newMarker()
	found := false
	for _, s := range []dumpSegment{h.data, h.bss} {
		if addr >= s.addr && addr+size <= s.addr+uint64(len(s.data)) {
			m.rootsIn(s, addr-s.addr, addr-s.addr+size)
			found = true
		}
	}
	if !found {
		i := h.find(addr)
		if i < 0 {
			return nil, fmt.Errorf("%#x is neither in data, bss nor a heap object", addr)
		}
		o := &h.objects[i]
		if addr+size > o.addr+uint64(len(o.data)) {
			return nil, fmt.Errorf("%#x+%d runs past its object %#x", addr, size, o.addr)
		}
		m.rootsIn(dumpSegment{o.addr, o.data, o.ptrs}, addr-o.addr, addr-o.addr+size)
	}
	m.drain()
	return m.marked, nil
}

// dumpWriter builds synthetic dumps for the reader's own tests.
type dumpWriter struct{ b []byte }

func (w *dumpWriter) uv(vs ...uint64) *dumpWriter {
	for _, v := range vs {
		w.b = binary.AppendUvarint(w.b, v)
	}
	return w
}

func (w *dumpWriter) str(s []byte) *dumpWriter {
	w.uv(uint64(len(s)))
	w.b = append(w.b, s...)
	return w
}

func words(ws ...uint64) []byte {
	b := make([]byte, 8*len(ws))
	for i, v := range ws {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// fields writes a field list of pointer offsets.
func (w *dumpWriter) fields(offs ...uint64) *dumpWriter {
	for _, o := range offs {
		w.uv(fieldKindPtr, o)
	}
	return w.uv(fieldKindEol)
}
