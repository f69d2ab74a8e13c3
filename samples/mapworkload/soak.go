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

	soakMu      sync.Mutex
	lockChurn   func() // set by the soak scenario: the manifest pauses the churn
	unlockChurn func()
	smallSize   = unsafe.Sizeof(Small{})
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

// setupSoak builds a service of about `objects` heap objects (each bulk map entry costs about
// four: the value, the sync.Map entry, the interface box and the key box), plants every
// pattern a bounded number of times, and starts a churn goroutine that stores new keys,
// deletes old ones and leaks leakRate values per second into main.soakLeaks.
func setupSoak(objects, churnRate, leakRate int) {
	useContainers(storeContainer(), registryContainer())
	exactCounts = false
	tombstones = nil // the churn stores new keys: tombstones come and go
	entries := clamp(objects/4, 1, 1<<30)
	small := objects >= soakSmallFrom
	for i := 0; i < entries; i++ {
		var v any
		var addr string
		if small {
			s := &Small{ID: i}
			v, addr = s, addrOf(unsafe.Pointer(s))
		} else {
			p := newPayload()
			v, addr = p, ptr(p)
		}
		store.Store(i, v)
		if i < soakControls { // keys the churn never touches
			typ, size := typeSmall, smallSize
			if !small {
				typ, size = typePayload, payloadSize
			}
			record(Object{Addr: addr, Size: size, Type: typ, Expect: expectNone, Role: roleControl,
				Label: "control/in-map", Holder: containerStore, Container: containerStore})
		}
	}
	atomic.AddInt64(&storeLive, int64(entries))

	k := clamp(objects/10_000, 1, 1000)
	for i := 0; i < k; i++ {
		plantCycleLiteral()
		plantCycleMethod()
		plantScalarClosure()
	}
	for i := 0; i < k/4+1; i++ {
		plantCycleHandlers()
	}
	// Ghosts: stored under negative keys (never a bulk or churn key), then deleted and kept.
	var parked []*Payload
	for i := 0; i < 2*k+1; i++ {
		p := newPayload()
		store.Store(-p.ID, p)
		store.Delete(-p.ID)
		o := payloadObj(p, expectGhost, rolePlanted, "", "")
		o.Container = containerStore
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
	rs := fill(registry, containerReg, &registryLive, 0, k+1, "control/in-map")
	registry.Delete(0)
	atomic.AddInt64(&registryLive, -1)
	auditLog = append(auditLog, rs[0])
	ghost(rs[0], "ghost/registry", sym("auditLog"), containerReg)

	for i := 0; i < k; i++ {
		record(pinOwnClosure())
	}
	for i := 0; i < k/2+1; i++ {
		a, b := pinMutual()
		record(a)
		record(b)
	}
	inUse = newHandle()
	setFinalizer(inUse, finalizeHandle)
	record(handleObj(inUse, expectNone, roleControl, "control/in-use", sym("inUse"), finKept))
	atManifest = refreshPendingControls

	promote(&store)
	lockChurn, unlockChurn = soakMu.Lock, soakMu.Unlock
	if churnRate > 0 {
		atomic.AddInt64(&goroutines, 1)
		go churn(entries, churnRate, leakRate)
	}
	runtime.KeepAlive(parked)
}

// churn stores fresh Small values under new keys every 10 ms and deletes the oldest churned
// key once soakRing keys are alive, keeping the map's size steady; leakRate of the deleted
// values per second are also appended to soakLeaks (growing ghosts, for heapsift diff).
func churn(firstKey, rate, leakRate int) {
	defer atomic.AddInt64(&goroutines, -1)
	perTick := clamp(rate/100, 1, 1<<20)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	ring := make([]int, 0, soakRing)
	head, next := 0, firstKey
	leakDebt := 0 // in 1/100 leaks: leakRate per second = leakRate per 100 ticks
	for range t.C {
		soakMu.Lock()
		leakDebt += leakRate
		for i := 0; i < perTick; i++ {
			key := next
			next++
			store.Store(key, &Small{ID: key})
			if len(ring) < soakRing {
				ring = append(ring, key)
				atomic.AddInt64(&storeLive, 1)
				continue
			}
			old := ring[head]
			ring[head] = key
			head = (head + 1) % soakRing
			v, ok := store.LoadAndDelete(old)
			if ok && leakDebt >= 100 && len(soakLeaks) < soakMaxLeaks {
				leakDebt -= 100
				s := v.(*Small)
				soakLeaks = append(soakLeaks, s)
				record(Object{Addr: addrOf(unsafe.Pointer(s)), Size: smallSize, Type: typeSmall,
					Expect: expectGhost, Role: rolePlanted, Label: "ghost/soak-leak",
					Holder: sym("soakLeaks"), Container: containerStore})
			}
		}
		if leakDebt > 100 {
			leakDebt = 100 // do not bank leaks while nothing was deleted
		}
		soakMu.Unlock()
	}
}
