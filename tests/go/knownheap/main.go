// knownheap writes two heap dumps around a known change to its heap, and prints the truth
// as JSON so tests can check what `heapsift info` reads from the dumps.
//
// Usage: knownheap BEFORE.dump AFTER.dump
//
// Between the dumps it starts 7 goroutines that park on a channel, sets finalizers on 5
// objects it keeps alive, and allocates 40 objects of 27264 bytes (a size class no other
// object in this program has) that a 64-slot global table points to.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	_ "runtime/pprof" // links the memory profiler: dumps then carry allocation samples
	"syscall"
)

const (
	nGoroutines  = 7
	nFinalizers  = 5
	nDistinct    = 40
	distinctSlot = 27264
	distinctSz   = distinctSlot - 8
)

// Distinct fills exactly one 27264-byte size-class slot and holds a pointer, so it is never
// allocated by the tiny allocator: 8 bytes short of the slot, which is where Go 1.22+ puts the
// malloc header of such an object; without a header (Go 1.21 and older) it rounds up to the
// same slot.
type Distinct struct {
	Next *Distinct
	Pad  [distinctSz - 8]byte
}

type withFinalizer struct {
	ID   int
	Data *[64]byte
}

var (
	knownTable [64]*Distinct
	finalized  []*withFinalizer
	park       = make(chan struct{})
)

// newDistinct is the allocation site the dump's samples must name.
//
//go:noinline
func newDistinct() *Distinct { return new(Distinct) }

// dump writes a heap dump through a raw descriptor (an *os.File would add a finalizer).
func dump(path string) {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runtime.GC()
	debug.WriteHeapDump(uintptr(fd))
	syscall.Close(fd)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: knownheap BEFORE.dump AFTER.dump")
		os.Exit(2)
	}
	runtime.MemProfileRate = 1 // sample every allocation: every object gets its site
	before := runtime.NumGoroutine()
	dump(os.Args[1])

	for i := 0; i < nGoroutines; i++ {
		go func() { <-park }()
	}
	for i := 0; i < nFinalizers; i++ {
		o := &withFinalizer{ID: i, Data: new([64]byte)}
		runtime.SetFinalizer(o, func(*withFinalizer) {})
		finalized = append(finalized, o)
	}
	for i := 0; i < nDistinct; i++ {
		knownTable[i] = newDistinct()
	}
	for runtime.NumGoroutine() < before+nGoroutines {
		runtime.Gosched()
	}
	after := runtime.NumGoroutine()
	dump(os.Args[2])

	truth := map[string]interface{}{
		"go_version":        runtime.Version(),
		"goroutines_before": before,
		"goroutines_after":  after,
		"goroutines_added":  nGoroutines,
		"finalizers_added":  nFinalizers,
		"distinct_size":     distinctSlot,
		"distinct_count":    nDistinct,
		"table_symbol":      "main.knownTable",
		"table_addr":        fmt.Sprintf("%p", &knownTable),
		"table_slots":       len(knownTable),
		"table_nonnil":      nDistinct,
		"distinct_site":     "main.newDistinct",
	}
	out, _ := json.Marshal(truth)
	fmt.Println(string(out))
	runtime.KeepAlive(finalized)
	runtime.KeepAlive(&knownTable)
}
