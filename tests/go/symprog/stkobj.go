package main

// Functions whose frames hold a stack object (the compiler's FUNCDATA_StackObjects record),
// for test_elfimg's symtab_stack_objects checks. Each runs on a fresh goroutine and proves its
// object is on the stack by the object's address changing when the goroutine's stack is
// copied (a heap object never moves). Truth lines:
//
//	stkobj <func> <count> <size> <ptr words> <pointer words set> <mask bytes hex, at most 8>
//	nostkobj <func>      the object went to the heap: the function has no stack objects
//
// The size and pointer mask come from the object's Go type (reflect), not from the compiler.

import (
	"fmt"
	"reflect"
	"unsafe"
)

// mixed has pointer words 1 and 3 of 4: mask 0x0a.
type mixed struct {
	A int64
	P *Payload
	B int64
	Q *Payload
}

// addrOf is the address p holds (p does not escape).
//
//go:noinline
func addrOf(p unsafe.Pointer) uintptr { return uintptr(p) }

// growStack uses about n KiB of stack, so the goroutine's stack is copied to a bigger one.
//
//go:noinline
func growStack(n int) int {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return growStack(n-1) + int(pad[n%1024])
}

//go:noinline
func fillArr(p *[3]*Payload) {
	for i := range p {
		p[i] = &Payload{ID: int64(i)}
	}
}

// stackArr: an address-taken array of pointers passed to a function that does not keep it.
//
//go:noinline
func stackArr() (moved bool) {
	var arr [3]*Payload
	fillArr(&arr)
	a := addrOf(unsafe.Pointer(&arr))
	growStack(2048)
	moved = a != addrOf(unsafe.Pointer(&arr))
	counter += arr[0].ID + arr[2].ID
	return
}

//go:noinline
func fillMixed(m *mixed) {
	m.P = &Payload{ID: 1}
	m.Q = &Payload{ID: 2}
}

// stackMixed: a struct with pointer and non-pointer words.
//
//go:noinline
func stackMixed() (moved bool) {
	var m mixed
	fillMixed(&m)
	a := addrOf(unsafe.Pointer(&m))
	growStack(2048)
	moved = a != addrOf(unsafe.Pointer(&m))
	counter += m.P.ID + m.Q.ID
	return
}

//go:noinline
func sumIDs(s []*Payload) (n int64) {
	for _, p := range s {
		n += p.ID
	}
	return
}

// stackAppend: a slice built by append and kept across a call. Go 1.25+ gives a small append
// a backing array on the stack (a stack object of cap pointers); older releases allocate it.
//
//go:noinline
func stackAppend(a, b, c *Payload) (moved bool, capacity int) {
	var held []*Payload
	held = append(held, a, b, c)
	p := addrOf(unsafe.Pointer(&held[0]))
	growStack(2048)
	moved = p != addrOf(unsafe.Pointer(&held[0]))
	counter += sumIDs(held)
	return moved, cap(held)
}

//go:noinline
func fillBig(p *[20000]*Payload) {
	p[0] = &Payload{ID: 1}
	p[19999] = &Payload{ID: 2}
}

// stackBig: 20000 pointer words, more than a pointer mask may cover in Go 1.19 (2048 bytes,
// cmd/compile reflectdata maxPtrmaskBytes), so its record points at a GC program there. Go
// 1.26 keeps no variable over 128 KiB on the stack (ir.MaxStackVarSize): it goes to the heap.
//
//go:noinline
func stackBig() (moved bool) {
	var big [20000]*Payload
	fillBig(&big)
	a := addrOf(unsafe.Pointer(&big))
	growStack(2048)
	moved = a != addrOf(unsafe.Pointer(&big))
	counter += big[0].ID + big[19999].ID
	return
}

// ptrMask appends the pointer bits of t's words at word index w to mask.
func ptrMask(t reflect.Type, w int, mask map[int]bool) {
	switch t.Kind() {
	case reflect.Ptr, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func,
		reflect.String, reflect.Slice:
		mask[w] = true
	case reflect.Interface: // both words: the type or itab, and the data
		mask[w] = true
		mask[w+1] = true
	case reflect.Array:
		es := int(t.Elem().Size() / unsafe.Sizeof(uintptr(0)))
		for i := 0; i < t.Len(); i++ {
			ptrMask(t.Elem(), w+i*es, mask)
		}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			ptrMask(f.Type, w+int(f.Offset/unsafe.Sizeof(uintptr(0))), mask)
		}
	}
}

// printStkobj prints the truth line for a stack object of type t in function fn.
func printStkobj(fn string, moved bool, t reflect.Type) {
	if !moved {
		fmt.Printf("nostkobj %s\n", fn)
		return
	}
	mask := map[int]bool{}
	ptrMask(t, 0, mask)
	words := 0
	for w := range mask {
		if w+1 > words {
			words = w + 1
		}
	}
	bytes := make([]byte, (words+7)/8)
	for w := range mask {
		bytes[w/8] |= 1 << (w % 8)
	}
	if len(bytes) > 8 {
		bytes = bytes[:8]
	}
	fmt.Printf("stkobj %s 1 %d %d %d %x\n", fn, t.Size(), words, len(mask), bytes)
}

// printStackObjects runs each function on a new goroutine (a small stack that must grow).
func printStackObjects() {
	run := func(f func()) {
		done := make(chan struct{})
		go func() { f(); close(done) }()
		<-done
	}
	ptr := reflect.TypeOf((*Payload)(nil))
	run(func() { printStkobj("main.stackArr", stackArr(), reflect.TypeOf([3]*Payload{})) })
	run(func() { printStkobj("main.stackMixed", stackMixed(), reflect.TypeOf(mixed{})) })
	run(func() {
		moved, c := stackAppend(&Payload{ID: 1}, &Payload{ID: 2}, &Payload{ID: 3})
		printStkobj("main.stackAppend", moved, reflect.ArrayOf(c, ptr))
	})
	run(func() { printStkobj("main.stackBig", stackBig(), reflect.TypeOf([20000]*Payload{})) })
}
