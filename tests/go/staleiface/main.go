// staleiface parks a goroutine whose frame holds two words shaped like an interface: the
// type word of *Big (a 536-byte struct) and a pointer to an 8-byte object of another type.
// Such a pair is what a stale stack slot can look like; the object must not be typed Big,
// which does not fit it. It writes a heap dump to argv[1] and prints the small object's
// address as JSON.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"unsafe"
)

// Big is the type the stale word names: 536 bytes with pointers.
type Big struct {
	Refs [64]*int
	Tail [24]byte
}

// Small is what the pointer word really points to: 8 bytes.
type Small struct{ N *int }

var park = make(chan struct{})

// typeWord returns the type word of an interface holding a *Big.
func typeWord() unsafe.Pointer {
	var b interface{} = &Big{}
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&b))[0]
}

//go:noinline
func hold(s *Small, ready chan<- struct{}) {
	// a scalar word holding *Big's type address, then a pointer: an interface's layout (whose
	// type word the collector does not scan either)
	pair := struct {
		t uintptr
		p unsafe.Pointer
	}{uintptr(typeWord()), unsafe.Pointer(s)}
	ready <- struct{}{}
	<-park
	runtime.KeepAlive(&pair)
}

func main() {
	s := &Small{N: new(int)}
	ready := make(chan struct{})
	go hold(s, ready)
	<-ready
	addr := fmt.Sprintf("%#x", uintptr(unsafe.Pointer(s)))
	s = nil
	runtime.GC()
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	debug.WriteHeapDump(f.Fd())
	f.Close()
	json.NewEncoder(os.Stdout).Encode(map[string]string{"small": addr, "big": "main.Big", "small_type": "main.Small"})
}
