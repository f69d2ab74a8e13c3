package main

import (
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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
	return Object{Addr: ptr(p), Size: payloadSize, Type: typePayload, ID: p.ID,
		Expect: expect, Role: role, Label: label, Holder: holder}
}

// fill stores n fresh payloads under keys base..base+n-1 and records them as in-map controls.
func fill(m *sync.Map, name string, live *int64, base, n int, label string) []*Payload {
	ps := make([]*Payload, n)
	for i := range ps {
		p := newPayload()
		ps[i] = p
		m.Store(base+i, p)
		o := payloadObj(p, expectNone, roleControl, label, name)
		o.Container = name
		record(o)
	}
	atomic.AddInt64(live, int64(n))
	return ps
}

// promote moves sync.Map's dirty map into its read map (Range does that while the map is
// amended; GO-RUNTIME.md), so later Deletes leave tombstones in Go 1.19-1.23.
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

func storeContainer() Container {
	return Container{Name: containerStore, Kind: "sync.Map", Addr: addrOf(unsafe.Pointer(&store))}
}

func registryContainer() Container {
	return Container{Name: containerReg, Kind: "sync.Map", Addr: addrOf(unsafe.Pointer(registry)), Anonymous: true}
}

// finalizePayload is the seed scenario's finalizer: it captures nothing and logs the time.
func finalizePayload(p *Payload) { noteFinalizer(p.ID) }

func finalizeHandle(h *Handle) { noteFinalizer(h.ID) }

// ---- seed: Range + SetFinalizer while another goroutine deletes ----

func setupSeed() {
	useContainers(storeContainer())
	const n = 1000
	fill(&store, containerStore, &storeLive, 0, n, "control/in-map")
	promote(&store)
	stop := make(chan struct{})
	done := make(chan int)
	atomic.AddInt64(&goroutines, 1)
	go seedDeleter(stop, done, n)
	time.Sleep(30 * time.Millisecond)
	i := 0
	store.Range(func(_, v any) bool {
		p := v.(*Payload)
		runtime.SetFinalizer(p, finalizePayload)
		atomic.AddInt64(&finalizersSet, 1)
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
}

// seedDeleter deletes a random key every 10 ms until stopped and reports how many it deleted.
func seedDeleter(stop <-chan struct{}, done chan<- int, n int) {
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
			if v, ok := store.LoadAndDelete(rng.Intn(n)); ok {
				forget(ptr(v.(*Payload)))
				deleted++
			}
		}
	}
}

// ---- ghost: deleted from the map, still held elsewhere ----

// parkHolder receives n payloads, keeps them in a local slice and parks forever.
func parkHolder(in <-chan *Payload, n int, ready chan<- struct{}) {
	defer atomic.AddInt64(&goroutines, -1)
	var held []*Payload
	for i := 0; i < n; i++ {
		held = append(held, <-in)
	}
	ready <- struct{}{}
	<-park
	runtime.KeepAlive(held)
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

func ghost(p *Payload, label, holder, container string) {
	update(ptr(p), func(o *Object) {
		o.Expect, o.Role, o.Label, o.Holder, o.Container = expectGhost, rolePlanted, label, holder, container
	})
}

func setupGhost() {
	useContainers(storeContainer(), registryContainer())
	ps := fill(&store, containerStore, &storeLive, 0, 64, "control/in-map")
	promote(&store)
	deleted := 0

	// Load, keep a reference, Delete: the reference outlives the entry.
	for k := 0; k < 3; k++ {
		v, _ := store.Load(k)
		ghostSlice = append(ghostSlice, v.(*Payload))
		store.Delete(k)
		ghost(ps[k], "ghost/global-slice", sym("ghostSlice"), containerStore)
		deleted++
	}
	// A deleted payload reachable only through another ghost's Next.
	ps[0].Next = ps[3]
	store.Delete(3)
	ghost(ps[3], "ghost/via-next", sym("ghostSlice"), containerStore)
	deleted++

	// LoadAndDelete and hand the values to a worker goroutine that parks with them.
	var held []*Payload
	for k := 4; k < 7; k++ {
		v, _ := store.LoadAndDelete(k)
		held = append(held, v.(*Payload))
		deleted++
	}
	startParkHolder(held)
	for _, p := range held {
		ghost(p, "ghost/goroutine-local", "goroutine "+funcName(parkHolder), containerStore)
	}

	// LoadAndDelete and capture the value in a long-lived closure.
	v, _ := store.LoadAndDelete(7)
	deleted++
	armShutdown(v.(*Payload))
	ghost(v.(*Payload), "ghost/closure", "closure "+funcName(onShutdown), containerStore)

	atomic.AddInt64(&storeLive, -int64(deleted))
	addTombstones(containerStore, deleted)

	// Still in the map and also in a global: not a ghost.
	keepBoth = ps[10]
	update(ptr(keepBoth), func(o *Object) { o.Label = "control/in-map-and-global" })

	// The anonymous registry: deleted (before any promotion, so no tombstones), audited forever.
	rs := fill(registry, containerReg, &registryLive, 1000, 16, "control/in-map")
	for k := 0; k < 2; k++ {
		registry.Delete(1000 + k)
		auditLog = append(auditLog, rs[k])
		ghost(rs[k], "ghost/registry", sym("auditLog"), containerReg)
	}
	atomic.AddInt64(&registryLive, -2)
	addTombstones(containerReg, 0)
}

// ---- closure: stored callbacks that capture the value that stores them ----

func cycleMember(addr unsafe.Pointer, size uintptr, typ, label string, group int) Object {
	return Object{Addr: addrOf(addr), Size: size, Type: typ, Expect: expectCycle, Role: rolePlanted,
		Label: label, Holder: containerStore, Container: containerStore, Group: group}
}

func storePlanted(p *Payload, o Object) {
	store.Store(p.ID, p)
	atomic.AddInt64(&storeLive, 1)
	o.Container = containerStore
	record(o)
}

// plantCycleLiteral stores p with p.cb = func(){ touch(p) }: p -> funcval -> p.
func plantCycleLiteral() *Payload {
	p := newPayload()
	p.cb = func() { touch(p) }
	g := newGroup()
	storePlanted(p, cycleMember(unsafe.Pointer(p), payloadSize, typePayload, "cycle/func-literal", g))
	record(cycleMember(funcvalOf(p.cb), funcvalOnePtrSz, typeClosure+" "+funcName(p.cb), "cycle/func-literal", g))
	return p
}

// plantCycleMethod stores p with p.onEvict = p.close: p -> (*Payload).close-fm funcval -> p.
func plantCycleMethod() *Payload {
	p := newPayload()
	p.onEvict = p.close
	g := newGroup()
	storePlanted(p, cycleMember(unsafe.Pointer(p), payloadSize, typePayload, "cycle/method-value", g))
	record(cycleMember(funcvalOf(p.onEvict), funcvalOnePtrSz, typeClosure+" "+funcName(p.onEvict), "cycle/method-value", g))
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
		record(cycleMember(funcvalOf(h), funcvalOnePtrSz, typeClosure+" "+funcName(h), label, g))
	}
	return p
}

func control(addr unsafe.Pointer, size uintptr, typ, label string) Object {
	return Object{Addr: addrOf(addr), Size: size, Type: typ, Expect: expectNone, Role: roleControl,
		Label: label, Holder: containerStore, Container: containerStore}
}

// plantScalarClosure stores p whose callback captures only p's ID: no cycle.
func plantScalarClosure() *Payload {
	p := newPayload()
	id := p.ID
	p.cb = func() { touchID(id) }
	storePlanted(p, control(unsafe.Pointer(p), payloadSize, typePayload, "control/scalar-closure"))
	o := control(funcvalOf(p.cb), 16, typeClosure+" "+funcName(p.cb), "control/scalar-closure")
	o.Container = ""
	record(o)
	return p
}

func setupClosure() {
	useContainers(storeContainer())
	fill(&store, containerStore, &storeLive, 1_000_000, 8, "control/in-map")
	for i := 0; i < 2; i++ {
		plantCycleLiteral()
		plantCycleMethod()
	}
	plantCycleHandlers()
	for i := 0; i < 2; i++ {
		plantScalarClosure()
	}
	// A method value bound to another payload that does not point back: no cycle.
	q := newPayload()
	storePlanted(q, control(unsafe.Pointer(q), payloadSize, typePayload, "control/method-value-other"))
	p := newPayload()
	p.onEvict = q.close
	storePlanted(p, control(unsafe.Pointer(p), payloadSize, typePayload, "control/method-value-other"))
	o := control(funcvalOf(p.onEvict), funcvalOnePtrSz, typeClosure+" "+funcName(p.onEvict), "control/method-value-other")
	o.Container = ""
	record(o)
}

// ---- finalizer-pin: finalizers that can never run ----

var handleSize = unsafe.Sizeof(Handle{})

func newHandle() *Handle { return &Handle{ID: newID()} }

func handleObj(h *Handle, expect, role, label, holder, fin string) Object {
	return Object{Addr: addrOf(unsafe.Pointer(h)), Size: handleSize, Type: typeHandle, ID: h.ID,
		Expect: expect, Role: role, Label: label, Holder: holder, Finalizer: fin}
}

func setFinalizer[T any](obj *T, fn func(*T)) {
	runtime.SetFinalizer(obj, fn)
	atomic.AddInt64(&finalizersSet, 1)
}

// pinOwnClosure returns a handle whose finalizer closure captures the handle itself.
//
//go:noinline
func pinOwnClosure() Object {
	h := newHandle()
	fin := func(*Handle) { noteFinalizer(h.ID) }
	setFinalizer(h, fin)
	return handleObj(h, expectPinned, rolePlanted, "pin/own-closure", "finalizer "+funcName(fin), finKept)
}

// pinMutual returns two finalizer-bearing handles that point at each other.
//
//go:noinline
func pinMutual() (Object, Object) {
	a, b := newHandle(), newHandle()
	a.Peer, b.Peer = b, a
	setFinalizer(a, finalizeHandle)
	setFinalizer(b, finalizeHandle)
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
	setFinalizer(h, finalizeHandle)
	s := newHandle()
	s.Self = s
	setFinalizer(s, finalizeHandle)
	holder := "finalizer " + funcName(finalizeHandle)
	return []Object{
		handleObj(h, expectNone, roleControl, "control/unreachable-finalizer", holder, finPending),
		handleObj(s, expectNone, roleControl, "control/self-pointer", holder, finPending),
	}
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

func setupPins() {
	for i := 0; i < 2; i++ {
		record(pinOwnClosure())
	}
	a, b := pinMutual()
	record(a)
	record(b)
	inUse = newHandle()
	setFinalizer(inUse, finalizeHandle)
	record(handleObj(inUse, expectNone, roleControl, "control/in-use", sym("inUse"), finKept))
	atManifest = refreshPendingControls
}

// ---- tombstone: many deletes, no new keys ----

func setupTombstone() {
	useContainers(storeContainer())
	const n, del = 2000, 1500
	ps := fill(&store, containerStore, &storeLive, 0, n, "control/in-map")
	// Load every key twice: the first pass misses n times and promotes dirty -> read
	// (sync.Map missLocked); the second pass hits the read map. Range makes sure.
	for pass := 0; pass < 2; pass++ {
		for k := 0; k < n; k++ {
			store.Load(k)
		}
	}
	promote(&store)
	for k := 0; k < del; k++ {
		if k%2 == 0 {
			store.Delete(k)
		} else {
			store.LoadAndDelete(k)
		}
		forget(ptr(ps[k]))
		tombstoneKeys = append(tombstoneKeys, k)
	}
	atomic.AddInt64(&storeLive, -del)
	addTombstones(containerStore, del)
}

// ---- fixed: the remedies; no leak of any kind ----

func setupFixed() {
	useContainers(storeContainer(), Container{Name: containerGuard, Kind: "map", Addr: addrOf(unsafe.Pointer(&guarded))})
	const n, evict = 40, 15
	for i := 0; i < n; i++ {
		p := newPayload()
		id := p.ID
		p.cb = func() { touchID(id) } // captures a scalar, not p
		setFinalizer(p, finalizePayload)
		store.Store(i, p)
		o := payloadObj(p, expectNone, roleControl, "fixed/in-map", containerStore)
		o.Container, o.Finalizer = containerStore, finKept
		record(o)
	}
	atomic.AddInt64(&storeLive, n)
	// LoadAndDelete, then Close: the evicted value keeps nothing and nothing keeps it.
	// The map was never promoted, so these deletes leave no tombstones.
	for k := 0; k < evict; k++ {
		v, ok := store.LoadAndDelete(k)
		if ok {
			v.(*Payload).Close()
			forget(ptr(v.(*Payload)))
			atomic.AddInt64(&storeLive, -1)
		}
	}
	addTombstones(containerStore, 0)

	guardedMu.Lock()
	guarded = make(map[int]*Payload)
	for i := 0; i < n; i++ {
		p := newPayload()
		guarded[i] = p
		o := payloadObj(p, expectNone, roleControl, "fixed/guarded-map", containerGuard)
		o.Container = containerGuard
		record(o)
	}
	for k := 0; k < evict; k++ {
		p := guarded[k]
		delete(guarded, k)
		p.Close()
		forget(ptr(p))
	}
	atomic.StoreInt64(&guardedLive, int64(len(guarded)))
	guardedMu.Unlock()
}
