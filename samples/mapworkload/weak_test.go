//go:build go1.24

package main

import (
	"testing"
	"unsafe"
)

func init() {
	holderSlices["weakStrong"] = unsafe.Pointer(&weakStrong)
	holderSlices["cleanupOwners"] = unsafe.Pointer(&cleanupOwners)
}

// TestHookCaptureWeak captures the weak scenario twice through the hook: each capture's
// manifest drops a fresh batch to weak-only (garbage in that dump, checked by reachability);
// the second capture's GC freed the first batch, which is no longer listed.
func TestHookCaptureWeak(t *testing.T) {
	_, sock := startHeld(t, "-scenario", "weak")
	_, raw, data := hookDump(t, sock)
	m1, _ := checkManifest(t, "weak", raw, data)
	_, raw, data = hookDump(t, sock)
	m2, _ := checkManifest(t, "weak", raw, data)
	first := map[string]bool{}
	for _, o := range m1.Objects {
		if o.Liveness == liveGarbage {
			first[o.Addr] = true
		}
	}
	n := 0
	for _, o := range m2.Objects {
		if first[o.Addr] && o.ID != 0 {
			for _, p := range m1.Objects {
				if p.Addr == o.Addr && p.ID == o.ID {
					t.Errorf("weak-only payload %s (ID %d) of the first capture is still listed", o.Addr, o.ID)
				}
			}
		}
		if o.Liveness == liveGarbage {
			n++
		}
	}
	if len(first) != weakBatch || n != weakBatch {
		t.Errorf("weak-only payloads: %d in the first capture, %d in the second, want %d", len(first), n, weakBatch)
	}
	checkScenario(t, "weak", m2)
}
