package main

import "testing"

// TestReaderSpanTailRecords: from Go 1.22 the runtime also dumps the slots at the end of a
// small-object span with pointers that overlap its heap bitmap (slot index >= (8192-128)/size):
// they are not objects and their "pointer fields" hold bitmap bits. The reader must accept
// them, and reachability must not go through them: nothing reachable points to them.
func TestReaderSpanTailRecords(t *testing.T) {
	const span = 0xc000100000
	const size = 48
	live := uint64(span)            // slot 0: an object held by a global
	garbage := uint64(span + size)  // slot 1: unreachable
	tail := uint64(span + 168*size) // slot 168 >= (8192-128)/48: bitmap area, not an object
	w := &dumpWriter{b: []byte(dumpMagic)}
	w.uv(6, 0, 8, span, span+8192).str([]byte("amd64")).str([]byte("go1.26.8")).uv(2)
	w.uv(1, live).str(words(7, 0, 0, 0, 0, 0)).fields()
	w.uv(1, garbage).str(words(8, 0, 0, 0, 0, 0)).fields()
	// The tail record's words look like pointers (to garbage, and past the span) and its
	// field list says so.
	w.uv(1, tail).str(words(garbage, span+8200, 0, 0, 0, 0)).fields(0, 8)
	w.uv(12, 0x500000).str(words(live)).fields(0)
	w.uv(13, 0x600000).str(words(0)).fields()
	w.uv(0)
	h, err := readDump(w.b)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.objects) != 3 || h.goVersion != "go1.26.8" {
		t.Fatalf("%d objects, version %q", len(h.objects), h.goVersion)
	}
	reach := h.reachable()
	for i, want := range []bool{true, false, false} {
		if reach[i] != want {
			t.Errorf("object %#x reachable = %v, want %v", h.objects[i].addr, reach[i], want)
		}
	}
	if h.find(span+8200) != -1 || h.find(tail+8) != 2 || h.find(live+47) != 0 {
		t.Errorf("find")
	}
}
