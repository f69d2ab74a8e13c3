package main

import (
	"fmt"
	"sync"
)

// Map keys come from disjoint ranges, so that no store can overwrite a recorded value by
// accident: a value recorded as in-map stays in its map under its key until the workload
// itself deletes it. Keys are unique across all containers of a run, not only within one.
//
//	bulk     [0, 1<<28)      fill() and the soak's bulk entries (soak: keys 0..N/4-1)
//	planted  [1<<28, 2<<28)  planted values (cycles, closures, ghosts stored then deleted)
//	churn    [2<<28, 7<<28)  the soak's churn goroutine (wraps around, skipping live keys)
//
// All bounds fit in an int32, so the same keys work on 32-bit platforms.
const (
	keysBulkLo    = 0
	keysPlantedLo = 1 << 28
	keysChurnLo   = 2 << 28
	keysChurnHi   = 7 << 28
)

type keySpace struct {
	name     string
	mu       sync.Mutex
	next, hi int
}

var (
	bulkKeys    = &keySpace{name: "bulk", next: keysBulkLo, hi: keysPlantedLo}
	plantedKeys = &keySpace{name: "planted", next: keysPlantedLo, hi: keysChurnLo}
)

// take reserves n consecutive keys and returns the first. Running out is a bug: it panics
// rather than hand out a key of another range.
func (k *keySpace) take(n int) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if n < 0 || k.next+n > k.hi {
		panic(fmt.Sprintf("mapworkload: %s key range exhausted (%d keys asked, next %d, end %d)", k.name, n, k.next, k.hi))
	}
	base := k.next
	k.next += n
	return base
}

func intPtr(v int) *int { return &v }
