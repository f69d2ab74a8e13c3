package main

import (
	"fmt"
	"reflect"
	"unsafe"
)

// mapShape is what inspectMapHeader (maplayout_*.go) reads from a map's runtime header.
type mapShape struct {
	count      int
	midGrowth  bool   // hmap: oldbuckets != nil (always false for Swiss maps)
	hmapB      int    // hmap: log2 of the bucket count; -1 for Swiss maps
	swissShape string // Swiss: "small" (one group, no directory) or "directory"
	dirLen     int    // Swiss directory entries
	tables     int    // Swiss distinct tables
}

// mapHeader returns the runtime header a map value points to (*hmap or *maps.Map).
func mapHeader[K comparable, V any](m map[K]V) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&m))
}

func (s mapShape) apply(c *Container) {
	c.Entries = intPtr(s.count)
	mid := s.midGrowth
	c.MidGrowth = &mid
	c.HmapB, c.SwissShape, c.SwissDirLen, c.SwissTables = nil, "", nil, nil
	if mapLayout == "hmap" {
		c.HmapB = intPtr(s.hmapB)
	} else {
		c.SwissShape = s.swissShape
		if s.swissShape == "directory" {
			c.SwissDirLen, c.SwissTables = intPtr(s.dirLen), intPtr(s.tables)
		}
	}
}

// mapContainer describes the Go map held by the variable *mp (named name). get returns the
// pointer that a value holds (the value itself for *T values; a field for value structs);
// want, when not nil, is the shape the map must keep (checked again before every manifest).
func mapContainer[K comparable, V any](name string, mp *map[K]V, get func(V) unsafe.Pointer, want func(mapShape) error) Container {
	c := Container{Name: name, Kind: "map", Addr: addrOf(unsafe.Pointer(mp)),
		ValueType: reflect.TypeOf(mp).Elem().Elem().String()}
	c.MapAddr = addrOf(mapHeader(*mp))
	c.count = func() int { return len(*mp) }
	c.lookup = func(key int) (unsafe.Pointer, bool) {
		k, ok := interface{}(key).(K)
		if !ok {
			return nil, false
		}
		v, ok := (*mp)[k]
		if !ok {
			return nil, false
		}
		return get(v), true
	}
	c.inspect = func(c *Container) error {
		h := mapHeader(*mp)
		if a := addrOf(h); a != c.MapAddr {
			return fmt.Errorf("map header moved: %s, recorded %s", a, c.MapAddr)
		}
		s, err := inspectMapHeader(h, len(*mp))
		if err != nil {
			return err
		}
		if want != nil {
			if err := want(s); err != nil {
				return err
			}
		}
		s.apply(c)
		return nil
	}
	if err := c.inspect(&c); err != nil {
		panic(fmt.Sprintf("mapworkload: %s: %v", name, err))
	}
	return c
}

// finishGrowth completes an hmap's incremental growth: every assignment evacuates up to two
// old buckets, so re-storing an existing key until oldbuckets is nil ends it (Swiss maps
// never grow incrementally). It returns an error if the map is still growing after that.
func finishGrowth[V any](m map[int]V, anyKey int) error {
	for i := 0; i < 1<<20; i++ {
		s, err := inspectMapHeader(mapHeader(m), len(m))
		if err != nil {
			return err
		}
		if !s.midGrowth {
			return nil
		}
		v := m[anyKey]
		m[anyKey] = v
	}
	return fmt.Errorf("map still growing")
}

func notGrowing(s mapShape) error {
	if s.midGrowth {
		return fmt.Errorf("map is growing (oldbuckets != nil), recorded as not")
	}
	return nil
}

func payloadPtr(p *Payload) unsafe.Pointer { return unsafe.Pointer(p) }

// ---- maps: Go maps as containers ----

// slotVal is a map value struct (not a pointer) holding a payload: the payload is reached
// through the map's inline value.
type slotVal struct {
	ID   int
	P    *Payload
	Seen int64
}

var (
	smallMap  map[int]*Payload // main.smallMap: at most 8 entries ever (hmap: B=0; Swiss: one group)
	largeMap  map[int]*Payload // main.largeMap: > 1024 entries (hmap: mid-growth; Swiss: a directory of tables)
	valueMap  map[int]slotVal  // main.valueMap: values are structs holding a *Payload
	mapGhosts []*Payload       // main.mapGhosts: payloads deleted from the maps, kept
)

const (
	smallMapN      = 8 // stored in main.smallMap, of which...
	smallMapGhosts = 3 // ...deleted and kept in main.mapGhosts
	largeMapGhosts = 4 // deleted from main.largeMap and kept
	largeMapMin    = 1100
	valueMapN      = 40
	valueMapGhosts = 2
)

// fillMap stores n fresh payloads under fresh bulk keys and records them as in-map controls.
func fillMap(m map[int]*Payload, name string, n int) ([]int, []*Payload) {
	keys, ps := make([]int, n), make([]*Payload, n)
	base := bulkKeys.take(n)
	for i := range ps {
		p := newPayload()
		keys[i], ps[i] = base+i, p
		m[base+i] = p
		recordInMap(p, name, base+i, "control/in-map")
	}
	return keys, ps
}

func recordInMap(p *Payload, container string, key int, label string) {
	o := payloadObj(p, expectNone, roleControl, label, container)
	o.Container, o.Key = container, intPtr(key)
	record(o)
}

// mapGhost deletes key from m (done by the caller), keeps p in main.mapGhosts and records it.
func mapGhost(p *Payload, container string, key int) {
	mapGhosts = append(mapGhosts, p)
	update(ptr(p), func(o *Object) {
		o.Expect, o.Role, o.Label, o.Holder = expectGhost, rolePlanted, "ghost/map", sym("mapGhosts")
		o.Container, o.Key = container, intPtr(key)
	})
}

func setupMaps() error {
	// Small: one bucket (hmap B=0) or one group without a directory (Swiss); 8 entries at most.
	smallMap = make(map[int]*Payload)
	keys, ps := fillMap(smallMap, sym("smallMap"), smallMapN)
	for i := 0; i < smallMapGhosts; i++ {
		delete(smallMap, keys[i])
		mapGhost(ps[i], sym("smallMap"), keys[i])
	}
	if err := finishGrowth(smallMap, keys[smallMapN-1]); err != nil {
		return err
	}
	small := mapContainer(sym("smallMap"), &smallMap, payloadPtr, func(s mapShape) error {
		if err := notGrowing(s); err != nil {
			return err
		}
		if mapLayout == "swiss" && s.swissShape != "small" {
			return fmt.Errorf("expected a small Swiss map (one group, no directory), got %q", s.swissShape)
		}
		if mapLayout == "hmap" && s.hmapB != 0 {
			return fmt.Errorf("expected one bucket (B=0), got B=%d", s.hmapB)
		}
		return nil
	})

	// Large: more than 1024 entries. Ghosts are deleted first; then, on hmap, inserts go on
	// until an insert starts a growth (oldbuckets != nil) and writing stops right there: only
	// assignments and deletes evacuate, so the map stays mid-growth (reads, GC and the dump
	// do not move buckets). On Swiss maps this is a directory of several tables.
	largeMap = make(map[int]*Payload)
	keys, ps = fillMap(largeMap, sym("largeMap"), largeMapMin)
	for i := 0; i < largeMapGhosts; i++ {
		delete(largeMap, keys[i])
		mapGhost(ps[i], sym("largeMap"), keys[i])
	}
	if mapLayout == "hmap" {
		if err := finishGrowth(largeMap, keys[len(keys)-1]); err != nil {
			return err
		}
		for i := 0; ; i++ {
			s, err := inspectMapHeader(mapHeader(largeMap), len(largeMap))
			if err != nil {
				return err
			}
			if s.midGrowth {
				break
			}
			if i > 1<<16 {
				return fmt.Errorf("main.largeMap never started growing")
			}
			k, _ := fillMap(largeMap, sym("largeMap"), 1)
			keys = append(keys, k[0])
		}
	}
	large := mapContainer(sym("largeMap"), &largeMap, payloadPtr, func(s mapShape) error {
		if s.count <= 1024 {
			return fmt.Errorf("large map has %d entries", s.count)
		}
		if mapLayout == "hmap" && (!s.midGrowth || s.hmapB < 8) {
			return fmt.Errorf("expected a growing hmap with B >= 8, got B=%d growing=%v", s.hmapB, s.midGrowth)
		}
		if mapLayout == "swiss" && (s.swissShape != "directory" || s.tables < 2) {
			return fmt.Errorf("expected a directory of several tables, got %q with %d tables", s.swissShape, s.tables)
		}
		return nil
	})

	// Value structs: the map's values hold the *Payload inline.
	valueMap = make(map[int]slotVal)
	base := bulkKeys.take(valueMapN)
	var vps []*Payload
	for i := 0; i < valueMapN; i++ {
		p := newPayload()
		vps = append(vps, p)
		valueMap[base+i] = slotVal{ID: p.ID, P: p, Seen: int64(i)}
		recordInMap(p, sym("valueMap"), base+i, "control/in-map-value-struct")
	}
	for i := 0; i < valueMapGhosts; i++ {
		delete(valueMap, base+i)
		mapGhost(vps[i], sym("valueMap"), base+i)
	}
	if err := finishGrowth(valueMap, base+valueMapN-1); err != nil {
		return err
	}
	value := mapContainer(sym("valueMap"), &valueMap, func(v slotVal) unsafe.Pointer { return unsafe.Pointer(v.P) }, notGrowing)

	useContainers(small, large, value)
	return nil
}
