// stackheld keeps objects alive only through stack objects of a parked goroutine: a small
// slice built by append (Go 1.25+ keeps its 32-byte backing array on the stack) and an
// address-taken local array. A heap dump's frame pointer maps describe neither, so an
// analysis that ignores stack objects calls these objects garbage although the GC keeps
// them. It writes a heap dump to argv[1] and prints the objects' addresses as JSON.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
)

// Item is what the goroutines hold: big enough to be told apart, with a pointer.
type Item struct {
	ID   int
	Next *Item
	Pad  [200]byte
}

var park = make(chan struct{})

//go:noinline
func use(p *[3]*Item) int { return p[0].ID + p[1].ID + p[2].ID }

// viaAppend holds three items in an append-built slice that does not escape.
func viaAppend(in <-chan *Item, ready chan<- struct{}) {
	var held []*Item
	for i := 0; i < 3; i++ {
		held = append(held, <-in)
	}
	ready <- struct{}{}
	<-park
	runtime.KeepAlive(held)
}

// viaArray holds three items in a local array whose address is taken.
func viaArray(in <-chan *Item, ready chan<- struct{}) {
	var arr [3]*Item
	for i := range arr {
		arr[i] = <-in
	}
	_ = use(&arr)
	ready <- struct{}{}
	<-park
	runtime.KeepAlive(&arr)
}

func main() {
	out := map[string][]string{}
	for _, h := range []struct {
		name string
		fn   func(<-chan *Item, chan<- struct{})
	}{{"append", viaAppend}, {"array", viaArray}} {
		in, ready := make(chan *Item), make(chan struct{})
		go h.fn(in, ready)
		for i := 0; i < 3; i++ {
			it := &Item{ID: len(out)*10 + i}
			out[h.name] = append(out[h.name], fmt.Sprintf("%p", it))
			in <- it
		}
		<-ready
	}
	fd, err := syscall.Open(os.Args[1], syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runtime.GC()
	debug.WriteHeapDump(uintptr(fd))
	syscall.Close(fd)
	json.NewEncoder(os.Stdout).Encode(out)
}
