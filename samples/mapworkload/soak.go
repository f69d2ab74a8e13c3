package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Small is the soak scenario's bulk value when many objects are asked for: 48-byte slots
// instead of 1 KiB payloads, so 10 million objects fit in a few GB.
type Small struct {
	ID   int
	Next *Small
	Data [24]byte
}

const (
	soakSmallFrom = 200_000 // -objects at or above this: bulk values are Small
	soakRing      = 1000    // churned keys alive at once
	soakMaxLeaks  = 100_000
	soakControls  = 100
)

var (
	soakLeaks []*Small // main.soakLeaks: churned values deleted from the map but kept

	// soakMu pauses the churn: the manifest holds it from its start to the end of the dump
	// (-selfdump) or of the manifest callback (hook).
	soakMu sync.Mutex
	// soakStaged are churned keys picked to leak: still in the map (not ghosts yet) until the
	// next manifest moves them to soakLeaks (guarded by soakMu).
	soakStaged []int
	smallSize  = unsafe.Sizeof(Small{})
)

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func smallObj(s *Small, expect, role, label, holder string) Object {
	o := obj(unsafe.Pointer(s), smallSize, typeSmall)
	o.ID, o.Expect, o.Role, o.Label, o.Holder = s.ID, expect, role, label, holder
	return o
}

// setupSoak builds a service of about `objects` heap objects (each bulk map entry costs about
// four: the value, the sync.Map entry, the interface box and the key box), plants every
// pattern a bounded number of times, and starts a churn goroutine that stores new keys,
// deletes old ones and leaks leakRate values per second into main.soakLeaks.
//
// Keys: bulk entries 0..N/4-1 (bulk range), planted values under planted keys, the churn
// under its own range (keys.go), so no store ever replaces a recorded value.
func setupSoak(objects, churnRate, leakRate int) error {
	exactCounts = false
	tombstones = nil // the churn stores new keys: tombstones come and go
	useContainers(storeContainer(), registryContainer())
	entries := clamp(objects/4, 1, 1<<30)
	small := objects >= soakSmallFrom
	base := bulkKeys.take(entries)
	for i := 0; i < entries; i++ {
		var v any
		var o Object
		if small {
			s := &Small{ID: newID()}
			v = s
			if i < soakControls {
				o = smallObj(s, expectNone, roleControl, "control/in-map", containerStore)
			}
		} else {
			p := newPayload()
			v = p
			if i < soakControls {
				o = payloadObj(p, expectNone, roleControl, "control/in-map", containerStore)
			}
		}
		store.Store(base+i, v)
		if i < soakControls { // keys the churn never touches
			o.Container, o.Key = containerStore, intPtr(base+i)
			record(o)
		}
	}
	atomic.AddInt64(&storeLive, int64(entries))

	// At least two cycles of each kind: a single rooted instance is a singleton, not a leak
	// (heapsift's --min-instances).
	k := clamp(objects/10_000, 2, 1000)
	for i := 0; i < k; i++ {
		plantCycleLiteral()
		plantCycleMethod()
		plantScalarClosure()
	}
	for i := 0; i < k/4+2; i++ {
		plantCycleHandlers()
	}
	// Ghosts: stored under planted keys, then deleted and kept.
	var parked []*Payload
	for i := 0; i < 2*k+1; i++ {
		p := newPayload()
		key := plantedKeys.take(1)
		store.Store(key, p)
		store.Delete(key)
		o := payloadObj(p, expectGhost, rolePlanted, "", "")
		o.Container, o.Key = containerStore, intPtr(key)
		switch {
		case i < k:
			ghostSlice = append(ghostSlice, p)
			o.Label, o.Holder = "ghost/global-slice", sym("ghostSlice")
		case i < 2*k:
			parked = append(parked, p)
			o.Label, o.Holder = "ghost/goroutine-local", "goroutine "+funcName(parkHolder)
		default:
			armShutdown(p)
			o.Label, o.Holder = "ghost/closure", "closure "+funcName(onShutdown)
		}
		record(o)
	}
	startParkHolder(parked)
	parked = nil
	rs, rkeys := fill(registry, containerReg, &registryLive, k+1, "control/in-map")
	registry.Delete(rkeys[0])
	atomic.AddInt64(&registryLive, -1)
	auditLog = append(auditLog, rs[0])
	ghost(rs[0], "ghost/registry", sym("auditLog"), containerReg, rkeys[0])

	plantPins(k, k/2+1)
	atManifest = append(atManifest, refreshPendingControls, leakStaged)

	promote(&store)
	lockChurn, unlockChurn = soakMu.Lock, soakMu.Unlock
	if churnRate > 0 {
		atomic.AddInt64(&goroutines, 1)
		go churn(churnRate, leakRate)
	}
	runtime.KeepAlive(parked)
	return nil
}

// leakStaged runs at manifest time with the churn paused: the staged keys' values are
// deleted from the map and kept in main.soakLeaks, so they are ghosts in this capture and
// listed in its manifest. Between a manifest and its dump the churn creates no ghost.
func leakStaged() {
	for _, key := range soakStaged {
		v, ok := store.LoadAndDelete(key)
		if !ok {
			continue
		}
		atomic.AddInt64(&storeLive, -1)
		s := v.(*Small)
		soakLeaks = append(soakLeaks, s)
		o := smallObj(s, expectGhost, rolePlanted, "ghost/soak-leak", sym("soakLeaks"))
		o.Container, o.Key = containerStore, intPtr(key)
		record(o)
	}
	soakStaged = soakStaged[:0]
}

// churn stores fresh Small values under new churn keys every 10 ms and deletes the oldest
// churned key once soakRing keys are alive, keeping the map's size steady. leakRate of the
// evicted keys per second are staged instead of deleted: the next capture's manifest moves
// their values to main.soakLeaks (growing ghosts, for heapsift diff).
func churn(rate, leakRate int) {
	defer atomic.AddInt64(&goroutines, -1)
	perTick := clamp(rate/100, 1, 1<<20)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	ring := make([]int, 0, soakRing)
	head, next, wrapped := 0, keysChurnLo, false
	leakDebt := 0 // in 1/100 leaks: leakRate per second = leakRate per 100 ticks
	for range t.C {
		soakMu.Lock()
		leakDebt += leakRate
		for i := 0; i < perTick; i++ {
			key := next
			if next++; next == keysChurnHi {
				next, wrapped = keysChurnLo, true
			}
			if wrapped { // after wrapping around, skip keys still stored (staged leaks)
				if _, ok := store.Load(key); ok {
					continue
				}
			}
			store.Store(key, &Small{ID: newID()})
			if len(ring) < soakRing {
				ring = append(ring, key)
				atomic.AddInt64(&storeLive, 1)
				continue
			}
			old := ring[head]
			ring[head] = key
			head = (head + 1) % soakRing
			if leakDebt >= 100 && len(soakLeaks)+len(soakStaged) < soakMaxLeaks {
				leakDebt -= 100
				soakStaged = append(soakStaged, old)
				atomic.AddInt64(&storeLive, 1)
				continue
			}
			store.LoadAndDelete(old)
		}
		if leakDebt > 100 {
			leakDebt = 100 // do not bank leaks while nothing was deleted
		}
		soakMu.Unlock()
	}
}
