//go:build !goexperiment.swissmap && !go1.26

package main

import (
	"fmt"
	"unsafe"
)

// Go maps are runtime.hmap with incremental growth: Go 1.19-1.23 (runtime/map.go), and
// Go 1.24-1.25 built with GOEXPERIMENT=noswissmap (runtime/map_noswiss.go).
const mapLayout = "hmap"

// hmapHeader mirrors the head of runtime.hmap: count@0, flags@8, B@9, noverflow@10,
// hash0@12, buckets@16, oldbuckets@24, nevacuate@32 on 64-bit platforms.
type hmapHeader struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
}

func init() {
	var h hmapHeader
	if unsafe.Sizeof(uintptr(0)) == 8 && (unsafe.Offsetof(h.B) != 9 || unsafe.Offsetof(h.buckets) != 16 ||
		unsafe.Offsetof(h.oldbuckets) != 24 || unsafe.Offsetof(h.nevacuate) != 32) {
		panic("mapworkload: hmapHeader does not match runtime.hmap")
	}
}

// inspectMapHeader reads the hmap at h (a map of n entries) and checks it is consistent.
func inspectMapHeader(h unsafe.Pointer, n int) (mapShape, error) {
	s := mapShape{hmapB: -1}
	if h == nil {
		if n != 0 {
			return s, fmt.Errorf("nil hmap for %d entries", n)
		}
		return s, nil
	}
	hm := (*hmapHeader)(h)
	s.count, s.hmapB = hm.count, int(hm.B)
	s.midGrowth = hm.oldbuckets != nil
	switch {
	case hm.count != n:
		return s, fmt.Errorf("hmap.count %d, len %d", hm.count, n)
	case hm.B > 40:
		return s, fmt.Errorf("hmap.B %d", hm.B)
	case n > 0 && hm.buckets == nil:
		return s, fmt.Errorf("hmap.buckets nil with %d entries", n)
	case s.midGrowth && (hm.B == 0 || hm.nevacuate >= uintptr(1)<<(hm.B-1)):
		return s, fmt.Errorf("hmap growing with nevacuate %d of %d old buckets", hm.nevacuate, 1<<(hm.B-1))
	}
	return s, nil
}
