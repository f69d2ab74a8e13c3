// indirect keeps objects that no typed pointer points to. Interface values: non-empty
// interfaces (whose first word is an itab) in a global, a struct field, a slice's array and a
// map's values, and an empty interface for comparison; the dynamic type of each types the
// object it points to. And unsafe.Pointers whose targets the runtime and the standard library
// know: a channel's buffer (hchan.buf) and a sync.Pool's per-P array (Pool.local, or victim
// after a collection). It writes a heap dump to argv[1] and prints, as JSON, each object's
// address with its type as heapsift names it (reflect's, "[]T" for an array of T).
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"unsafe"
)

// Label is held by a global of a non-empty interface type.
type Label struct {
	Text  string
	Count int
}

func (l *Label) String() string { return l.Text }

// Fault is held by an error field.
type Fault struct {
	Code   int
	Detail *string
}

func (f *Fault) Error() string { return *f.Detail }

// Shape is a map's value type: an interface.
type Shape interface{ Area() float64 }

// Square is held by a map of Shapes.
type Square struct {
	Side float64
	Name *string
}

func (s *Square) Area() float64 { return s.Side * s.Side }

// Job keeps its failure behind the error interface.
type Job struct {
	ID  int
	Err error
}

// Rec is held by an empty interface.
type Rec struct {
	Next *Rec
	N    int
}

var (
	label   fmt.Stringer
	job     *Job
	readers []io.Reader
	shapes  map[string]Shape
	anyRec  interface{}
	queue   chan *Rec
	pool    sync.Pool
)

type object struct {
	Addr string `json:"addr"`
	Type string `json:"type"`
}

func addr(p interface{}) object {
	v := reflect.ValueOf(p)
	return object{fmt.Sprintf("%#x", v.Pointer()), v.Elem().Type().String()}
}

func main() {
	var truth []object
	l := &Label{Text: "held by a fmt.Stringer", Count: 1}
	label = l
	truth = append(truth, addr(l))
	detail := "held by an error field"
	f := &Fault{Code: 7, Detail: &detail}
	job = &Job{ID: 1, Err: f}
	truth = append(truth, addr(f))
	for i := 0; i < 3; i++ {
		r := strings.NewReader(strings.Repeat("x", 10+i))
		readers = append(readers, r)
		truth = append(truth, addr(r))
	}
	shapes = map[string]Shape{}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("square %d", i)
		s := &Square{Side: float64(i), Name: &name}
		shapes[name] = s
		truth = append(truth, addr(s))
	}
	r := &Rec{N: 42}
	anyRec = r
	truth = append(truth, addr(r))
	queue = make(chan *Rec, 4)
	queue <- &Rec{N: 1}
	queue <- &Rec{N: 2}
	// hchan: qcount, dataqsiz, then buf (Go 1.19 to 1.27)
	buf := *(*unsafe.Pointer)(unsafe.Add(*(*unsafe.Pointer)(unsafe.Pointer(&queue)), 16))
	truth = append(truth, object{fmt.Sprintf("%#x", uintptr(buf)), "[]*main.Rec"})
	l, f, r = nil, nil, nil
	runtime.GC()
	pool.Put(&Rec{N: 3})
	// sync.Pool: local, localSize, victim (a collection moves local to victim)
	words := (*[3]unsafe.Pointer)(unsafe.Pointer(&pool))
	for _, p := range []unsafe.Pointer{words[0], words[2]} {
		if p != nil {
			truth = append(truth, object{fmt.Sprintf("%#x", uintptr(p)), "[]sync.poolLocal"})
		}
	}
	out, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	debug.WriteHeapDump(out.Fd())
	out.Close()
	if err := json.NewEncoder(os.Stdout).Encode(truth); err != nil {
		panic(err)
	}
	runtime.KeepAlive(label)
	runtime.KeepAlive(job)
	runtime.KeepAlive(readers)
	runtime.KeepAlive(shapes)
	runtime.KeepAlive(anyRec)
	runtime.KeepAlive(queue)
	runtime.KeepAlive(&pool)
}
