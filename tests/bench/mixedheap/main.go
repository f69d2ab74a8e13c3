// Command mixedheap builds the mixed heap of issue 12's benchmark and writes a heap dump of
// itself (runtime/debug.WriteHeapDump) for tests/bench/analyze --heap mixed.
//
// Every record has a name string, a byte blob and a two-string slice; every 4th has a small
// map, every 3rd a closure capturing the record, every 50th a finalizer. The records are
// doubly linked, all stored in a sync.Map (key: the record's id), and the even ones also in a
// Go map index. -n counts records, not heap objects: a record costs about 8 to 10 heap objects
// depending on the Go version (tests/bench/analyze measures the ratio and picks -n for an
// object count; `heapsift info` counts the objects of a dump).
//
//	go build -o mixedheap . && ./mixedheap -n 100000 -o /tmp/mixed.dump
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// record is the heap's one user type.
type record struct {
	id    int
	name  string
	blob  []byte
	tags  []string
	attrs map[string]int // every 4th record
	onUse func() int     // every 3rd record: a closure capturing the record
	prev  *record
	next  *record
}

var (
	all        sync.Map        // id -> *record, every record
	index      map[int]*record // even ids only
	head, tail *record
	finalized  int // records whose finalizer ran (none should, while the program lives)
	finMu      sync.Mutex
)

func finalize(r *record) {
	finMu.Lock()
	finalized++
	finMu.Unlock()
}

// build makes n records.
func build(n int) {
	index = make(map[int]*record)
	for i := 0; i < n; i++ {
		r := &record{id: i, name: "record-" + strconv.Itoa(i)}
		r.blob = make([]byte, 16+i%112)
		r.blob[0] = byte(i)
		r.tags = []string{"kind-" + strconv.Itoa(i%97), "owner-" + strconv.Itoa(i%1013)}
		if i%4 == 0 {
			r.attrs = map[string]int{"size": len(r.blob), "gen": i % 7}
		}
		if i%3 == 0 {
			r.onUse = func() int { return r.id + len(r.name) }
		}
		if i%50 == 0 {
			runtime.SetFinalizer(r, finalize)
		}
		if tail == nil {
			head = r
		} else {
			tail.next, r.prev = r, tail
		}
		tail = r
		all.Store(i, r)
		if i%2 == 0 {
			index[i] = r
		}
	}
	// A Range promotes the sync.Map's dirty map to its read map (Go 1.19 to 1.23), as any
	// long-lived sync.Map that is read ends up; it also checks the count.
	count := 0
	all.Range(func(k, v any) bool { count++; return true })
	if count != n {
		panic(fmt.Sprintf("sync.Map holds %d records, want %d", count, n))
	}
}

// selfDump collects, then writes the heap dump with automatic GC off, as
// samples/mapworkload's -selfdump does.
func selfDump(path string) error {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	debug.WriteHeapDump(f.Fd())
	return f.Close()
}

func main() {
	n := flag.Int("n", 100000, "records to build (about 8 to 10 heap objects each)")
	out := flag.String("o", "", "write the heap dump to this path (required)")
	flag.Parse()
	if *out == "" || *n < 0 || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: mixedheap [-n RECORDS] -o DUMP")
		os.Exit(2)
	}
	t0 := time.Now()
	build(*n)
	built := time.Since(t0)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if err := selfDump(*out); err != nil {
		fmt.Fprintln(os.Stderr, "mixedheap:", err)
		os.Exit(1)
	}
	fmt.Printf("records %d heap_objects %d heap_alloc %d build_s %.3f dump_s %.3f\n",
		*n, ms.HeapObjects, ms.HeapAlloc, built.Seconds(), time.Since(t0).Seconds()-built.Seconds())
	// The heap stays reachable until here.
	runtime.KeepAlive(head)
}
