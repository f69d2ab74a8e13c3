//go:build goexperiment.swissmap || go1.26

package main

import (
	"fmt"
	"unsafe"
)

// Go maps are Swiss tables (internal/runtime/maps): Go 1.24+ (1.24-1.25 unless built with
// GOEXPERIMENT=noswissmap). No incremental growth: a map is never caught mid-growth.
const mapLayout = "swiss"

// swissMap mirrors the head of internal/runtime/maps.Map: used@0, seed@8, dirPtr@16,
// dirLen@24, globalDepth@32 on 64-bit platforms. dirLen == 0: a small map, dirPtr is its
// one group (8 slots); else dirPtr is the directory, dirLen (1<<globalDepth) *table entries,
// several of which may share a table.
type swissMap struct {
	used        uint64
	seed        uintptr
	dirPtr      unsafe.Pointer
	dirLen      int
	globalDepth uint8
}

// swissTable mirrors the head of internal/runtime/maps.table.
type swissTable struct {
	used       uint16
	capacity   uint16
	growthLeft uint16
	localDepth uint8
}

func init() {
	var m swissMap
	if unsafe.Sizeof(uintptr(0)) == 8 && (unsafe.Offsetof(m.dirPtr) != 16 || unsafe.Offsetof(m.dirLen) != 24 ||
		unsafe.Offsetof(m.globalDepth) != 32) {
		panic("mapworkload: swissMap does not match internal/runtime/maps.Map")
	}
}

// inspectMapHeader reads the Swiss map at h (a map of n entries) and checks it is consistent.
func inspectMapHeader(h unsafe.Pointer, n int) (mapShape, error) {
	s := mapShape{hmapB: -1}
	if h == nil {
		if n != 0 {
			return s, fmt.Errorf("nil map for %d entries", n)
		}
		return s, nil
	}
	m := (*swissMap)(h)
	s.count = int(m.used)
	if s.count != n {
		return s, fmt.Errorf("Map.used %d, len %d", m.used, n)
	}
	if m.dirLen == 0 {
		s.swissShape = "small"
		if n > 8 {
			return s, fmt.Errorf("small map (no directory) with %d entries", n)
		}
		return s, nil
	}
	s.swissShape, s.dirLen = "directory", m.dirLen
	if m.globalDepth > 40 || m.dirLen != 1<<m.globalDepth {
		return s, fmt.Errorf("directory of %d entries at global depth %d", m.dirLen, m.globalDepth)
	}
	dir := unsafe.Slice((**swissTable)(m.dirPtr), m.dirLen)
	seen := map[*swissTable]bool{}
	used := 0
	for _, t := range dir {
		if t == nil {
			return s, fmt.Errorf("nil table in the directory")
		}
		if !seen[t] {
			seen[t] = true
			used += int(t.used)
			if t.capacity == 0 || t.capacity > 1024 || t.capacity&(t.capacity-1) != 0 {
				return s, fmt.Errorf("table capacity %d", t.capacity)
			}
		}
	}
	s.tables = len(seen)
	if used != n {
		return s, fmt.Errorf("tables hold %d entries, len %d", used, n)
	}
	return s, nil
}
