package main

import (
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"heapsift.dev/samples/selfdump"
)

// Payload is the service's value type: a pointer field, ~1 KiB of data and the callbacks
// that the closure patterns store.
type Payload struct {
	ID       int
	Next     *Payload
	Data     [1024]byte
	cb       func()
	onEvict  func()
	handlers []func()
	closed   bool
}

func (p *Payload) close() { p.closed = true }

// Close is the remedy for the closure patterns: it drops every callback (and the link), so
// nothing the payload stored can keep it or anything else alive.
func (p *Payload) Close() {
	p.cb, p.onEvict, p.handlers, p.Next = nil, nil, nil, nil
	p.closed = true
}

// Handle is the finalizer-bearing resource of the finalizer-pin scenario (a separate type so
// that no Payload outside the map exists there).
type Handle struct {
	ID   int
	Peer *Handle
	Self *Handle
	Buf  [256]byte
}

var (
	// The service's containers: a named sync.Map and an anonymous static one (the compiler
	// puts the sync.Map itself in bss without a symbol of its own).
	store    sync.Map
	registry = &sync.Map{}

	// Holders of ghosts.
	ghostSlice []*Payload            // ghost/global-slice
	auditLog   []*Payload            // ghost/registry
	onShutdown func() int            // ghost/closure
	keepBoth   *Payload              // control: in the map and in a global
	inUse      *Handle               // control: finalizer object still in use
	park       = make(chan struct{}) // never closed: parked goroutines wait on it

	// The RWMutex-guarded map of the fixed scenario.
	guardedMu sync.RWMutex
	guarded   map[int]*Payload

	sinkID int64
)

var payloadSize = unsafe.Sizeof(Payload{})

//go:noinline
func touch(p *Payload) { atomic.AddInt64(&sinkID, int64(p.ID)) }

//go:noinline
func touchID(id int) { atomic.AddInt64(&sinkID, int64(id)) }

func newPayload() *Payload {
	p := &Payload{ID: newID()}
	p.Data[0] = byte(p.ID)
	return p
}

func ptr(p *Payload) string { return addrOf(unsafe.Pointer(p)) }

func payloadObj(p *Payload, expect, role, label, holder string) Object {
	o := obj(unsafe.Pointer(p), payloadSize, typePayload)
	o.ID, o.Expect, o.Role, o.Label, o.Holder = p.ID, expect, role, label, holder
	return o
}

// fill stores n fresh payloads under n fresh bulk keys and records them as in-map controls.
// It returns the payloads and their keys.
func fill(m *sync.Map, name string, live *int64, n int, label string) ([]*Payload, []int) {
	ps, keys := make([]*Payload, n), make([]int, n)
	base := bulkKeys.take(n)
	for i := range ps {
		p := newPayload()
		ps[i], keys[i] = p, base+i
		m.Store(base+i, p)
		o := payloadObj(p, expectNone, roleControl, label, name)
		o.Container, o.Key = name, intPtr(base+i)
		record(o)
	}
	if live != nil {
		atomic.AddInt64(live, int64(n))
	}
	return ps, keys
}

// promote moves sync.Map's dirty map into its read map (Range does that while the map is
// amended), so later Deletes leave tombstones in Go 1.19-1.23.
func promote(m *sync.Map) {
	m.Range(func(_, _ any) bool { return true })
}

// useContainers declares the scenario's containers; sync.Maps start with 0 tombstones.
func useContainers(cs ...Container) {
	containers = append(containers, cs...)
	for _, c := range cs {
		if c.Kind == "sync.Map" && tombstones != nil {
			tombstones[c.Name] += 0
		}
	}
}

// valuePointer returns the object a sync.Map value points to.
func valuePointer(v any) unsafe.Pointer {
	switch v := v.(type) {
	case *Payload:
		return unsafe.Pointer(v)
	case *Small:
		return unsafe.Pointer(v)
	}
	panic(fmt.Sprintf("mapworkload: unexpected sync.Map value %T", v))
}

// syncMapContainer describes the sync.Map m named name; counted says whether its entries
// are counted for the manifest (a Range over all of them).
func syncMapContainer(name string, m *sync.Map, counted bool) Container {
	c := Container{Name: name, Kind: "sync.Map", Addr: addrOf(unsafe.Pointer(m))}
	c.lookup = func(key int) (unsafe.Pointer, bool) {
		v, ok := m.Load(key)
		if !ok {
			return nil, false
		}
		return valuePointer(v), true
	}
	if counted {
		c.count = func() int {
			n := 0
			m.Range(func(_, _ any) bool { n++; return true })
			return n
		}
	}
	return c
}

func storeContainer() Container { return syncMapContainer(containerStore, &store, exactCounts) }

func registryContainer() Container {
	c := syncMapContainer(containerReg, registry, true)
	c.Anonymous = true
	return c
}

// fieldContainer describes a sync.Map that is the field `field` of the struct at holder,
// which the global `global` points to.
func fieldContainer(global, field string, m *sync.Map, holder unsafe.Pointer, heap bool) Container {
	c := syncMapContainer(global+"."+field, m, true)
	off := uintptr(unsafe.Pointer(m)) - uintptr(holder)
	c.Anonymous, c.Holder, c.HolderAddr, c.Field, c.FieldOffset, c.Heap = true, global, addrOf(holder), field, &off, heap
	return c
}

// finalizePayload is the seed scenario's finalizer: it captures nothing and logs the time.
func finalizePayload(p *Payload) { noteFinalizer(p.ID) }

func finalizeHandle(h *Handle) { noteFinalizer(h.ID) }

// ---- seed: Range + SetFinalizer while another goroutine deletes ----

func setupSeed() error {
	useContainers(storeContainer())
	const n = 1000
	_, keys := fill(&store, containerStore, &storeLive, n, "control/in-map")
	promote(&store)
	stop := make(chan struct{})
	done := make(chan int)
	atomic.AddInt64(&goroutines, 1)
	go seedDeleter(stop, done, keys)
	time.Sleep(30 * time.Millisecond)
	i := 0
	store.Range(func(_, v any) bool {
		p := v.(*Payload)
		setFinalizer(p, p.ID, finalizePayload)
		update(ptr(p), func(o *Object) { o.Finalizer = finKept; o.Label = "control/in-map-finalizer" })
		if i++; i%100 == 0 {
			time.Sleep(3 * time.Millisecond) // a slow Range: deletes interleave with it
		}
		return true
	})
	time.Sleep(50 * time.Millisecond)
	close(stop)
	deleted := <-done
	atomic.AddInt64(&storeLive, -int64(deleted))
	addTombstones(containerStore, deleted)
	runtime.GC()
	return nil
}

// seedDeleter deletes a random key every 10 ms until stopped and reports how many it deleted.
func seedDeleter(stop <-chan struct{}, done chan<- int, keys []int) {
	defer atomic.AddInt64(&goroutines, -1)
	rng := rand.New(rand.NewSource(1))
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	deleted := 0
	for {
		select {
		case <-stop:
			done <- deleted
			return
		case <-t.C:
			if v, ok := store.LoadAndDelete(keys[rng.Intn(len(keys))]); ok {
				forget(ptr(v.(*Payload)))
				deleted++
			}
		}
	}
}

// ---- ghost: deleted from the map, still held elsewhere ----

// parkHolder receives n payloads, keeps them in a local slice and parks forever.
//
// The slice's backing array must be on the heap: from Go 1.25 the compiler may put a small
// non-escaping make or append buffer (32 bytes) on the stack, as a stack object; a heap dump
// describes only a frame's pointer bitmap, not its stack objects: those payloads would look
// unreachable in the dump although the GC keeps them. heapEscape makes it escape.
func parkHolder(in <-chan *Payload, n int, ready chan<- struct{}) {
	defer atomic.AddInt64(&goroutines, -1)
	held := heapEscape(make([]*Payload, n))
	for i := range held {
		held[i] = <-in
	}
	ready <- struct{}{}
	<-park
	runtime.KeepAlive(held)
}

var (
	escapeSink  []*Payload
	escapeNever bool // never set: escapeSink stays nil
)

// heapEscape returns s unchanged; to escape analysis s leaks to a global, so its backing
// array (and that of slices appended from it) is heap-allocated.
//
//go:noinline
func heapEscape(s []*Payload) []*Payload {
	if escapeNever {
		escapeSink = s
	}
	return s
}

// startParkHolder hands ps to a new parked goroutine.
func startParkHolder(ps []*Payload) {
	in := make(chan *Payload)
	ready := make(chan struct{})
	atomic.AddInt64(&goroutines, 1)
	go parkHolder(in, len(ps), ready)
	for _, p := range ps {
		in <- p
	}
	<-ready
}

// armShutdown stores a long-lived closure that captures g (not inlined, so that the closure
// keeps the name main.armShutdown.func1).
//
//go:noinline
func armShutdown(g *Payload) {
	onShutdown = func() int { return g.ID }
}

func ghost(p *Payload, label, holder, container string, key int) {
	update(ptr(p), func(o *Object) {
		o.Expect, o.Role, o.Label, o.Holder, o.Container = expectGhost, rolePlanted, label, holder, container
		o.Key = intPtr(key)
	})
}

// service holds a sync.Map as a field; `var svc = &service{...}` is statically allocated by
// the compiler (an anonymous symbol in data/bss, pointed to by main.svc).
type service struct {
	name     string
	requests int64
	sessions sync.Map
}

// connHub holds a sync.Map as a field of a heap object (main.hub points to it). It is larger
// than 512 bytes, so from Go 1.22 it has a malloc header: %p of it is its slot + 8.
type connHub struct {
	ID          int
	name        string
	stats       [72]uint64
	conns       sync.Map
	lastEvicted *Payload // ghost/holder-field: a ghost kept by the struct that holds the map
}

var (
	svc        = &service{name: "sessions"}
	hub        *connHub
	sessionLog []*Payload // ghost/struct-field
)

func setupGhost() error {
	useContainers(storeContainer(), registryContainer())
	ps, keys := fill(&store, containerStore, &storeLive, 64, "control/in-map")
	promote(&store)
	deleted := 0

	// Load, keep a reference, Delete: the reference outlives the entry.
	for k := 0; k < 3; k++ {
		v, _ := store.Load(keys[k])
		ghostSlice = append(ghostSlice, v.(*Payload))
		store.Delete(keys[k])
		ghost(ps[k], "ghost/global-slice", sym("ghostSlice"), containerStore, keys[k])
		deleted++
	}
	// A deleted payload reachable only through another ghost's Next.
	ps[0].Next = ps[3]
	store.Delete(keys[3])
	ghost(ps[3], "ghost/via-next", sym("ghostSlice"), containerStore, keys[3])
	deleted++

	// LoadAndDelete and hand the values to a worker goroutine that parks with them.
	var held []*Payload
	for k := 4; k < 7; k++ {
		v, _ := store.LoadAndDelete(keys[k])
		held = append(held, v.(*Payload))
		deleted++
	}
	startParkHolder(held)
	for i, p := range held {
		ghost(p, "ghost/goroutine-local", "goroutine "+funcName(parkHolder), containerStore, keys[4+i])
	}

	// LoadAndDelete and capture the value in a long-lived closure.
	v, _ := store.LoadAndDelete(keys[7])
	deleted++
	armShutdown(v.(*Payload))
	ghost(v.(*Payload), "ghost/closure", "closure "+funcName(onShutdown), containerStore, keys[7])

	atomic.AddInt64(&storeLive, -int64(deleted))
	addTombstones(containerStore, deleted)

	// Still in the map and also in a global: not a ghost.
	keepBoth = ps[10]
	update(ptr(keepBoth), func(o *Object) { o.Label = "control/in-map-and-global" })

	// The anonymous registry: deleted (before any promotion, so no tombstones), audited forever.
	rs, rkeys := fill(registry, containerReg, &registryLive, 16, "control/in-map")
	for k := 0; k < 2; k++ {
		registry.Delete(rkeys[k])
		auditLog = append(auditLog, rs[k])
		ghost(rs[k], "ghost/registry", sym("auditLog"), containerReg, rkeys[k])
	}
	atomic.AddInt64(&registryLive, -2)
	addTombstones(containerReg, 0)

	// A sync.Map field of a static struct: promoted, then 2 values deleted and kept in
	// main.sessionLog (2 tombstones on Go 1.19-1.23).
	svcName := sym("svc") + ".sessions"
	useContainers(fieldContainer(sym("svc"), "sessions", &svc.sessions, unsafe.Pointer(svc), false))
	ss, skeys := fill(&svc.sessions, svcName, nil, 12, "control/in-map")
	promote(&svc.sessions)
	for k := 0; k < 2; k++ {
		v, _ := svc.sessions.LoadAndDelete(skeys[k])
		sessionLog = append(sessionLog, v.(*Payload))
		ghost(ss[k], "ghost/struct-field", sym("sessionLog"), svcName, skeys[k])
	}
	addTombstones(svcName, 2)

	// A sync.Map field of a heap struct, never promoted (no tombstones): one deleted value
	// kept in main.sessionLog, one in the holder struct's own field.
	hub = &connHub{ID: newID(), name: "conns"}
	hubName := sym("hub") + ".conns"
	useContainers(fieldContainer(sym("hub"), "conns", &hub.conns, unsafe.Pointer(hub), true))
	hs, hkeys := fill(&hub.conns, hubName, nil, 10, "control/in-map")
	hub.conns.Delete(hkeys[0])
	sessionLog = append(sessionLog, hs[0])
	ghost(hs[0], "ghost/struct-field", sym("sessionLog"), hubName, hkeys[0])
	v, _ = hub.conns.LoadAndDelete(hkeys[1])
	hub.lastEvicted = v.(*Payload)
	ghost(hs[1], "ghost/holder-field", sym("hub"), hubName, hkeys[1])
	addTombstones(hubName, 0)
	return nil
}

// ---- closure: stored callbacks that capture the value that stores them ----

func cycleMember(addr unsafe.Pointer, size uintptr, typ, label string, group int) Object {
	o := obj(addr, size, typ)
	o.Expect, o.Role, o.Label, o.Holder, o.Container, o.Group = expectCycle, rolePlanted, label, containerStore, containerStore, group
	return o
}

// storePlanted stores p in main.store under a fresh planted key and records it.
func storePlanted(p *Payload, o Object) {
	key := plantedKeys.take(1)
	store.Store(key, p)
	atomic.AddInt64(&storeLive, 1)
	o.Container, o.Key, o.ID = containerStore, intPtr(key), p.ID
	record(o)
}

// plantCycleLiteral stores p with p.cb = func(){ touch(p) }: p -> funcval -> p.
func plantCycleLiteral() *Payload {
	p := newPayload()
	p.cb = func() { touch(p) }
	return storeFuncCycle(p, p.cb, "cycle/func-literal")
}

// plantCycleMethod stores p with p.onEvict = p.close: p -> (*Payload).close-fm funcval -> p.
func plantCycleMethod() *Payload {
	p := newPayload()
	p.onEvict = p.close
	return storeFuncCycle(p, p.onEvict, "cycle/method-value")
}

// storeFuncCycle stores p, which holds f capturing p, and records both as one cycle group.
func storeFuncCycle(p *Payload, f func(), label string) *Payload {
	g := newGroup()
	storePlanted(p, cycleMember(unsafe.Pointer(p), payloadSize, typePayload, label, g))
	record(cycleMember(selfdump.FuncvalOf(f), funcvalOnePtrSz, typeClosure+" "+funcName(f), label, g))
	return p
}

// plantCycleHandlers stores p with two handlers capturing p: p -> []func() -> funcvals -> p.
func plantCycleHandlers() *Payload {
	p := newPayload()
	p.handlers = make([]func(), 2)
	p.handlers[0] = func() { touch(p) }
	p.handlers[1] = func() { p.close() }
	g := newGroup()
	const label = "cycle/handler-slice"
	storePlanted(p, cycleMember(unsafe.Pointer(p), payloadSize, typePayload, label, g))
	record(cycleMember(unsafe.Pointer(&p.handlers[0]), 2*unsafe.Sizeof(p.cb), typeFuncArray, label, g))
	for _, h := range p.handlers {
		record(cycleMember(selfdump.FuncvalOf(h), funcvalOnePtrSz, typeClosure+" "+funcName(h), label, g))
	}
	return p
}

func control(addr unsafe.Pointer, size uintptr, typ, label string) Object {
	o := obj(addr, size, typ)
	o.Expect, o.Role, o.Label, o.Holder, o.Container = expectNone, roleControl, label, containerStore, containerStore
	return o
}

// plantScalarClosure stores p whose callback captures only p's ID: no cycle.
func plantScalarClosure() *Payload {
	p := newPayload()
	id := p.ID
	p.cb = func() { touchID(id) }
	storePlanted(p, control(unsafe.Pointer(p), payloadSize, typePayload, "control/scalar-closure"))
	o := control(selfdump.FuncvalOf(p.cb), 16, typeClosure+" "+funcName(p.cb), "control/scalar-closure")
	o.Container = ""
	record(o)
	return p
}

func setupClosure() error {
	useContainers(storeContainer())
	fill(&store, containerStore, &storeLive, 8, "control/in-map")
	// Two of each: one rooted instance is a singleton, not a leak (heapsift's
	// --min-instances).
	for i := 0; i < 2; i++ {
		plantCycleLiteral()
		plantCycleMethod()
		plantCycleHandlers()
	}
	for i := 0; i < 2; i++ {
		plantScalarClosure()
	}
	// A method value bound to another payload that does not point back: no cycle.
	q := newPayload()
	storePlanted(q, control(unsafe.Pointer(q), payloadSize, typePayload, "control/method-value-other"))
	p := newPayload()
	p.onEvict = q.close
	storePlanted(p, control(unsafe.Pointer(p), payloadSize, typePayload, "control/method-value-other"))
	o := control(selfdump.FuncvalOf(p.onEvict), funcvalOnePtrSz, typeClosure+" "+funcName(p.onEvict), "control/method-value-other")
	o.Container = ""
	record(o)
	return nil
}

// ---- finalizer-pin: finalizers that can never run ----

var handleSize = unsafe.Sizeof(Handle{})

func newHandle() *Handle { return &Handle{ID: newID()} }

func handleObj(h *Handle, expect, role, label, holder, fin string) Object {
	o := obj(unsafe.Pointer(h), handleSize, typeHandle)
	o.ID, o.Expect, o.Role, o.Label, o.Holder, o.Finalizer = h.ID, expect, role, label, holder, fin
	return o
}

// pinOwnClosure returns a handle whose finalizer closure captures the handle itself.
//
//go:noinline
func pinOwnClosure() Object {
	h := newHandle()
	fin := func(*Handle) { noteFinalizer(h.ID) }
	setFinalizer(h, h.ID, fin)
	return handleObj(h, expectPinned, rolePlanted, "pin/own-closure", "finalizer "+funcName(fin), finKept)
}

// pinMutual returns two finalizer-bearing handles that point at each other.
//
//go:noinline
func pinMutual() (Object, Object) {
	a, b := newHandle(), newHandle()
	a.Peer, b.Peer = b, a
	setFinalizer(a, a.ID, finalizeHandle)
	setFinalizer(b, b.ID, finalizeHandle)
	g := newGroup()
	holder := "finalizer " + funcName(finalizeHandle)
	oa := handleObj(a, expectPinned, rolePlanted, "pin/mutual", holder, finKept)
	ob := handleObj(b, expectPinned, rolePlanted, "pin/mutual", holder, finKept)
	oa.Group, ob.Group = g, g
	return oa, ob
}

// pendingControls makes the unreachable-but-not-pinned controls: a finalizer with no capture
// on an unreachable handle, and a handle whose only reference is its own Self pointer. The
// next GC runs both finalizers.
//
//go:noinline
func pendingControls() []Object {
	h := newHandle()
	setFinalizer(h, h.ID, finalizeHandle)
	s := newHandle()
	s.Self = s
	setFinalizer(s, s.ID, finalizeHandle)
	holder := "finalizer " + funcName(finalizeHandle)
	objs := []Object{
		handleObj(h, expectNone, roleControl, "control/unreachable-finalizer", holder, finPending),
		handleObj(s, expectNone, roleControl, "control/self-pointer", holder, finPending),
	}
	for i := range objs {
		objs[i].Liveness = liveFinPending
	}
	return objs
}

var pendingAddrs []string

// refreshPendingControls replaces the pending controls; it runs at manifest time, after the
// hook's GC, so the controls are in the dump with their finalizers still registered.
func refreshPendingControls() {
	for _, a := range pendingAddrs {
		forget(a)
	}
	pendingAddrs = pendingAddrs[:0]
	for _, o := range pendingControls() {
		record(o)
		pendingAddrs = append(pendingAddrs, o.Addr)
	}
}

func setupPins() error {
	plantPins(2, 1)
	atManifest = append(atManifest, refreshPendingControls)
	return nil
}

// plantPins plants own-closure pins and mutual pairs, and the in-use finalizer control.
func plantPins(ownClosure, mutualPairs int) {
	for i := 0; i < ownClosure; i++ {
		record(pinOwnClosure())
	}
	for i := 0; i < mutualPairs; i++ {
		a, b := pinMutual()
		record(a)
		record(b)
	}
	inUse = newHandle()
	setFinalizer(inUse, inUse.ID, finalizeHandle)
	record(handleObj(inUse, expectNone, roleControl, "control/in-use", sym("inUse"), finKept))
}

// ---- tombstone: many deletes, no new keys ----

func setupTombstone() error {
	useContainers(storeContainer())
	const n, del = 2000, 1500
	ps, keys := fill(&store, containerStore, &storeLive, n, "control/in-map")
	// Load every key twice: the first pass misses n times and promotes dirty -> read
	// (sync.Map missLocked, Go 1.9-1.23); the second pass hits the read map. Range makes sure.
	for pass := 0; pass < 2; pass++ {
		for _, k := range keys {
			store.Load(k)
		}
	}
	promote(&store)
	for i := 0; i < del; i++ {
		if i%2 == 0 {
			store.Delete(keys[i])
		} else {
			store.LoadAndDelete(keys[i])
		}
		forget(ptr(ps[i]))
		deletedKeys = append(deletedKeys, keys[i])
	}
	atomic.AddInt64(&storeLive, -del)
	addTombstones(containerStore, del)
	return nil
}

// ---- fixed: the remedies; no leak of any kind ----

func setupFixed() error {
	useContainers(storeContainer())
	const n, evict = 40, 15
	base := bulkKeys.take(n)
	for i := 0; i < n; i++ {
		p := newPayload()
		id := p.ID
		p.cb = func() { touchID(id) } // captures a scalar, not p
		setFinalizer(p, p.ID, finalizePayload)
		store.Store(base+i, p)
		o := payloadObj(p, expectNone, roleControl, "fixed/in-map", containerStore)
		o.Container, o.Key, o.Finalizer = containerStore, intPtr(base+i), finKept
		record(o)
	}
	atomic.AddInt64(&storeLive, n)
	// LoadAndDelete, then Close: the evicted value keeps nothing and nothing keeps it.
	// The map was never promoted, so these deletes leave no tombstones.
	for k := 0; k < evict; k++ {
		v, ok := store.LoadAndDelete(base + k)
		if ok {
			v.(*Payload).Close()
			forget(ptr(v.(*Payload)))
			atomic.AddInt64(&storeLive, -1)
		}
	}
	addTombstones(containerStore, 0)

	guardedMu.Lock()
	defer guardedMu.Unlock()
	guarded = make(map[int]*Payload)
	base = bulkKeys.take(n)
	for i := 0; i < n; i++ {
		p := newPayload()
		guarded[base+i] = p
		recordInMap(p, containerGuard, base+i, "fixed/guarded-map")
	}
	for k := 0; k < evict; k++ {
		p := guarded[base+k]
		delete(guarded, base+k)
		p.Close()
		forget(ptr(p))
	}
	if err := finishGrowth(guarded, base+n-1); err != nil {
		return err
	}
	atomic.StoreInt64(&guardedLive, int64(len(guarded)))
	useContainers(mapContainer(containerGuard, &guarded, payloadPtr, notGrowing))
	return nil
}

// Sizes of the weak and cleanup scenarios (weak.go, Go 1.24+).
const (
	weakInitial    = 24 // payloads created strong (in main.weakStrong) and weak (in main.weakCache)
	weakBatch      = 4  // dropped from main.weakStrong at each manifest
	weakMinKeep    = 12 // strong payloads kept after a drop (new ones are made when needed)
	cleanupOwnersN = 4  // owners with a cleanup; the first's argument has a second Resource
)
