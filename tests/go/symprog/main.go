// symprog prints ground truth about its own binary for tests/unit/test_elfimg.c: function
// entries (named and closure), global addresses, type descriptor addresses and the Go version.
// Output lines:
//
//	go <runtime.Version()>
//	func <name> <entry hex>          a named function (reflect code pointer)
//	closure <name> <entry hex>       a heap closure's code word (funcval word 0)
//	global <name> <addr hex>         a package-level variable
//	anon <addr hex> <size>           a static object with no symbol (target of main.registry)
//	type <descriptor hex> <size> <kind> <name>   (the name may contain spaces: "chan int")
//	goarch <runtime.GOARCH>
//	addcleanup <0|1>                 1 when the binary calls runtime.AddCleanup (cleanup.go, Go 1.24+)
//	stkobj <func> <count> <size> <ptr words> <words set> <mask hex>   a stack object (stkobj.go)
//	nostkobj <func>                  a function whose object went to the heap (stkobj.go)
package main

import (
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"unsafe"
)

// Payload is a named struct type whose descriptor the test decodes.
type Payload struct {
	ID   int64
	Name string
	Next *Payload
}

// Item is the element of a slice type the test decodes.
type Item struct {
	A, B uint32
}

// Box is a generic type: its instantiations' names carry the type arguments.
type Box[T any] struct {
	V T
}

var (
	counter  int64                  // noptrbss
	registry = &sync.Map{}          // bss pointer to an anonymous static sync.Map
	greeting = "hello from symprog" // data (a string header holds a pointer)
	table    = [4]int32{1, 2, 3, 4} // noptrdata
	keep     func() int             // holds the closure so it stays on the heap
	keepM    func() int64           // holds a method value (a -fm closure)
	sink     any
)

// addCleanup is set by cleanup.go where runtime.AddCleanup exists (Go 1.24+).
var addCleanup func(*Payload)

//go:noinline
func namedFunc(a, b int) int { return a*b + int(counter) }

//go:noinline
func (p *Payload) Method() int64 { return p.ID }

// codeWord returns word 0 of the funcval behind f: the closure's code pointer.
func codeWord(f func() int) uintptr {
	fv := *(*unsafe.Pointer)(unsafe.Pointer(&f))
	return *(*uintptr)(fv)
}

// codeWordM is codeWord for a method value.
func codeWordM(f func() int64) uintptr {
	fv := *(*unsafe.Pointer)(unsafe.Pointer(&f))
	return *(*uintptr)(fv)
}

// typeWord returns the type word of an empty interface: the *_type descriptor address.
func typeWord(v any) uintptr {
	return (*[2]uintptr)(unsafe.Pointer(&v))[0]
}

func printType(v any) {
	t := reflect.TypeOf(v)
	fmt.Printf("type %#x %d %d %s\n", typeWord(v), t.Size(), int(t.Kind()), t.String())
}

func main() {
	x := int(counter) + 41
	keep = func() int { x++; return x }
	counter++
	keepM = (&Payload{ID: 7}).Method

	fmt.Printf("go %s\n", runtime.Version())
	fmt.Printf("goarch %s\n", runtime.GOARCH)
	if addCleanup != nil {
		addCleanup(&Payload{ID: 9})
		fmt.Printf("addcleanup 1\n")
	} else {
		fmt.Printf("addcleanup 0\n")
	}
	fmt.Printf("func main.namedFunc %#x\n", reflect.ValueOf(namedFunc).Pointer())
	fmt.Printf("func main.main %#x\n", reflect.ValueOf(main).Pointer())
	fmt.Printf("func main.codeWord %#x\n", reflect.ValueOf(codeWord).Pointer())
	fmt.Printf("closure main.main.func1 %#x\n", codeWord(keep))
	fmt.Printf("closure main.(*Payload).Method-fm %#x\n", codeWordM(keepM))
	fmt.Printf("global main.counter %#x\n", uintptr(unsafe.Pointer(&counter)))
	fmt.Printf("global main.registry %#x\n", uintptr(unsafe.Pointer(&registry)))
	fmt.Printf("global main.greeting %#x\n", uintptr(unsafe.Pointer(&greeting)))
	fmt.Printf("global main.table %#x\n", uintptr(unsafe.Pointer(&table)))
	fmt.Printf("anon %#x %d\n", uintptr(unsafe.Pointer(registry)), unsafe.Sizeof(*registry))

	printType(Payload{})
	printType(&Payload{})
	printType([]*Item{})
	printType([3]Item{})
	printType(make(chan int))
	printType(map[string]int{})
	printType(Box[string]{})
	printType(&Box[[]*Item]{})
	printType([]any{})
	printType(struct{ A int }{})
	printType((func(int) string)(nil))
	printStackObjects()
	registry.Store("k", keep()+int(keepM()))
	sink = namedFunc(2, 3)
}
