// dwarfprog declares types, globals, closures and a function with locals of every kind Go's
// DWARF describes, and prints what it knows of itself as JSON on stdout (reflect and unsafe:
// sizes, field offsets, element and key types, pointer words, runtime type descriptor
// addresses and their PtrBytes and GC masks, global addresses, function entry pcs, the
// addresses of a frame's parameters and locals). tests/integration/test_typetab.py compares it
// with the typetab godwarf reads from this binary's DWARF, both ways.
package main

import (
	"encoding/json"
	"os"
	"reflect"
	"runtime"
	"strings"
	"unsafe"
)

type Inner struct {
	A int32
	B string
}

type Named interface{ Name() string }

type Base struct{ Label string }

func (b *Base) Name() string { return b.Label }

// Session has a field of every kind, embedded fields of three kinds, and refers to itself.
type Session struct {
	Inner
	*Base
	Named
	ID     uint64
	Name_  string
	Tags   []string
	Attrs  map[string]*Session
	Ch     chan int
	Any    interface{}
	Err    error
	Fn     func(int) int
	P      unsafe.Pointer
	Arr    [3]*Inner
	C64    complex64
	C128   complex128
	F32    float32
	F64    float64
	U      uintptr
	Bo     bool
	I8     int8
	I16    int16
	I32    int32
	I64    int64
	U8     uint8
	U16    uint16
	U32    uint32
	Next   *Session
	Small  [2]byte
	Nested struct {
		X, Y int
		Z    *Inner
	}
}

type ID uint64
type Names []string
type Grid [4][3]*Inner

// BigVal is larger than 128 bytes: Go 1.19's map buckets hold a pointer to it.
type BigVal struct {
	Data [20]uint64
	Ref  *Inner
}

type Node struct {
	Val  int
	Next *Node
	Kids []*Node
}

var (
	gSession  *Session
	gSessions = map[string]*Session{}
	gIntMap   = map[int]int{}
	gBigMap   = map[ID]BigVal{}
	gSlice    []Inner
	gNames    Names
	gChan     = make(chan *Session, 4)
	gStructCh = make(chan Inner)
	gIface    interface{}
	gNamed    Named
	gErr      error
	gArr      [4]int
	gGrid     Grid
	gFn       func(int) int
	gPtr      unsafe.Pointer
	gNode     Node
	gCount    int64
	gFlag     bool
	gStr      = "hello"
	gComplex  complex128
)

// frameAddrs has two address-taken locals that stay on the stack; it returns their addresses,
// which differ by what their DWARF frame offsets differ by. (Its parameters are described in
// registers only, although &b spills b: Go's DWARF does not follow the spill.)
//
//go:noinline
func frameAddrs(b *Session) (uintptr, uintptr) {
	var local [4]*Inner
	var other struct {
		p *Inner
		n int
	}
	local[0] = b.Arr[0]
	other.p = b.Arr[1]
	keep(&local)
	keep2(&other.p)
	return uintptr(unsafe.Pointer(&local)), uintptr(unsafe.Pointer(&other))
}

//go:noinline
func keep(p *[4]*Inner) {
	if p[1] != nil {
		println(p[1].A)
	}
}

//go:noinline
func keep2(p **Inner) {
	if *p != nil {
		println((*p).A)
	}
}

// makeClosures returns closures that capture by reference (counter) and by value (base).
//
//go:noinline
func makeClosures(base int, s *Session) (func() int, func(int) int) {
	counter := 0
	inc := func() int {
		counter++
		return counter + len(s.Name_)
	}
	add := func(x int) int { return x + base + counter }
	return inc, add
}

type field struct {
	Name     string `json:"name"`
	Offset   uintptr `json:"offset"`
	Type     string `json:"type"`
	Embedded bool   `json:"embedded"`
}

type typeInfo struct {
	Name     string  `json:"name"`
	Kind     string  `json:"kind"`
	Size     uintptr `json:"size"`
	Elem     string  `json:"elem,omitempty"`
	Key      string  `json:"key,omitempty"`
	Len      int     `json:"len"`
	Mask     string  `json:"mask"`
	Fields   []field `json:"fields,omitempty"`
	Rtype    uintptr `json:"rtype"`
	PtrBytes uintptr `json:"ptr_bytes"`
	GCMask   string  `json:"gc_mask,omitempty"`
}

// ptrWords marks the pointer words of a value of t at byte offset base, by the rules of
// formats/TYPETAB.md ("Pointer masks").
func ptrWords(t reflect.Type, base uintptr, out map[uintptr]bool) {
	const w = unsafe.Sizeof(uintptr(0))
	switch t.Kind() {
	case reflect.Ptr, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer,
		reflect.String, reflect.Slice:
		out[base/w] = true
	case reflect.Interface: // the data word; the itab or type word is no heap pointer
		out[base/w+1] = true
	case reflect.Array:
		for i := 0; i < t.Len(); i++ {
			ptrWords(t.Elem(), base+uintptr(i)*t.Elem().Size(), out)
		}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			ptrWords(t.Field(i).Type, base+t.Field(i).Offset, out)
		}
	}
}

func maskOf(t reflect.Type) string {
	out := map[uintptr]bool{}
	ptrWords(t, 0, out)
	n := uintptr(0)
	for k := range out {
		if k+1 > n {
			n = k + 1
		}
	}
	var b strings.Builder
	for i := uintptr(0); i < n; i++ {
		if out[i] {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

// rtypeOf is the address of t's runtime type descriptor (reflect's *rtype).
func rtypeOf(t reflect.Type) uintptr {
	return (*[2]uintptr)(unsafe.Pointer(&t))[1]
}

// runtimeMask reads PtrBytes and, when the descriptor holds a plain mask, the GC mask of the
// type descriptor at p (internal/abi.Type: Size_, PtrBytes, Hash, TFlag, Align_,
// FieldAlign_, Kind_, Equal, GCData; the same first words in Go 1.19's runtime._type).
func runtimeMask(p uintptr) (uintptr, string) {
	const w = unsafe.Sizeof(uintptr(0))
	ptrBytes := *(*uintptr)(unsafe.Pointer(p + w))
	tflag := *(*uint8)(unsafe.Pointer(p + 2*w + 4))
	kind := *(*uint8)(unsafe.Pointer(p + 2*w + 7))
	// Go 1.19: kindGCProg (1<<6) means a GC program; 1.24+: TFlagGCMaskOnDemand (1<<4)
	if kind&(1<<6) != 0 || tflag&(1<<4) != 0 || ptrBytes == 0 || ptrBytes/w > 256 {
		return ptrBytes, ""
	}
	gcdata := *(*uintptr)(unsafe.Pointer(p + 4*w))
	var b strings.Builder
	for i := uintptr(0); i < ptrBytes/w; i++ {
		if *(*uint8)(unsafe.Pointer(gcdata + i/8))>>(i%8)&1 != 0 {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return ptrBytes, b.String()
}

func describe(t reflect.Type) typeInfo {
	ti := typeInfo{Name: t.String(), Kind: t.Kind().String(), Size: t.Size(), Mask: maskOf(t),
		Rtype: rtypeOf(t)}
	ti.PtrBytes, ti.GCMask = runtimeMask(ti.Rtype)
	switch t.Kind() {
	case reflect.Ptr, reflect.Slice, reflect.Chan:
		ti.Elem = t.Elem().String()
	case reflect.Array:
		ti.Elem = t.Elem().String()
		ti.Len = t.Len()
	case reflect.Map:
		ti.Elem = t.Elem().String()
		ti.Key = t.Key().String()
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			ti.Fields = append(ti.Fields, field{f.Name, f.Offset, f.Type.String(), f.Anonymous})
		}
	}
	return ti
}

type global struct {
	Name string  `json:"name"`
	Addr uintptr `json:"addr"`
	Type string  `json:"type"`
}

func globalOf(name string, p interface{}) global {
	v := reflect.ValueOf(p)
	return global{name, v.Pointer(), v.Type().Elem().String()}
}

func funcPC(f interface{}) uintptr { return reflect.ValueOf(f).Pointer() }

func main() {
	s := &Session{Name_: "s", Base: &Base{"b"}, Attrs: map[string]*Session{}}
	s.Arr[0] = &Inner{A: 1}
	gSession = s
	gSessions["s"] = s
	gIntMap[1] = 2
	gBigMap[1] = BigVal{}
	gSlice = append(gSlice, Inner{})
	gNames = append(gNames, "n")
	gIface = s
	gNamed = s.Base
	gErr = os.ErrNotExist
	gFn = func(x int) int { return x * 2 }
	gPtr = unsafe.Pointer(s)
	gNode.Kids = append(gNode.Kids, &Node{Val: 1})
	inc, add := makeClosures(3, s)
	l, o := frameAddrs(s)

	types := []reflect.Type{
		reflect.TypeOf(Inner{}), reflect.TypeOf(Base{}), reflect.TypeOf(Session{}),
		reflect.TypeOf(&Session{}), reflect.TypeOf(ID(0)), reflect.TypeOf(Names{}),
		reflect.TypeOf(Grid{}), reflect.TypeOf(BigVal{}), reflect.TypeOf(Node{}),
		reflect.TypeOf(map[string]*Session{}), reflect.TypeOf(map[int]int{}),
		reflect.TypeOf(map[ID]BigVal{}), reflect.TypeOf([]Inner{}), reflect.TypeOf(gChan),
		reflect.TypeOf(gStructCh), reflect.TypeOf(&gIface).Elem(),
		reflect.TypeOf(&gNamed).Elem(), reflect.TypeOf(&gErr).Elem(), reflect.TypeOf(gFn),
		reflect.TypeOf(gArr), reflect.TypeOf(gPtr), reflect.TypeOf([3]*Inner{}),
		reflect.TypeOf(s.Nested), reflect.TypeOf(""), reflect.TypeOf(0), reflect.TypeOf(uintptr(0)),
		reflect.TypeOf(complex64(0)), reflect.TypeOf(false), reflect.TypeOf([]*Node{}),
		reflect.TypeOf(field{}), reflect.TypeOf(typeInfo{}), reflect.TypeOf(global{}),
	}
	out := map[string]interface{}{}
	var infos []typeInfo
	for _, t := range types {
		infos = append(infos, describe(t))
	}
	out["types"] = infos
	out["globals"] = []global{
		globalOf("main.gSession", &gSession), globalOf("main.gSessions", &gSessions),
		globalOf("main.gIntMap", &gIntMap), globalOf("main.gBigMap", &gBigMap),
		globalOf("main.gSlice", &gSlice), globalOf("main.gNames", &gNames),
		globalOf("main.gChan", &gChan), globalOf("main.gStructCh", &gStructCh),
		globalOf("main.gIface", &gIface), globalOf("main.gNamed", &gNamed),
		globalOf("main.gErr", &gErr), globalOf("main.gArr", &gArr),
		globalOf("main.gGrid", &gGrid), globalOf("main.gFn", &gFn),
		globalOf("main.gPtr", &gPtr), globalOf("main.gNode", &gNode),
		globalOf("main.gCount", &gCount), globalOf("main.gFlag", &gFlag),
		globalOf("main.gStr", &gStr), globalOf("main.gComplex", &gComplex),
	}
	out["funcs"] = map[string]uintptr{
		"main.frameAddrs": funcPC(frameAddrs), "main.makeClosures": funcPC(makeClosures),
		"main.main": funcPC(main), "main.makeClosures.func1": funcPC(inc),
		"main.makeClosures.func2": funcPC(add), "main.main.func1": funcPC(gFn),
		"main.(*Base).Name": funcPC((*Base).Name),
	}
	out["frame"] = map[string]uintptr{"local": l, "other": o}
	out["go_version"] = runtime.Version()
	out["closure_results"] = []int{inc(), add(1)}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}
