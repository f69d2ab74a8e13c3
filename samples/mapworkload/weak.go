//go:build go1.24

package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"
	"weak"
)

// The weak and cleanup scenarios need Go 1.24 (weak.Pointer, runtime.AddCleanup).

func init() {
	scenarios["weak"] = func(opts) error { return setupWeak() }
	scenarios["cleanup"] = func(opts) error { return setupCleanup() }
}

// ---- weak: payloads held strongly and weakly; some only weakly ----

type weakDrop struct {
	addr string
	wp   weak.Pointer[Payload]
}

var (
	weakStrong  []*Payload                    // main.weakStrong: the strong references
	weakCache   map[int]weak.Pointer[Payload] // main.weakCache: a weak reference to each payload, by key
	weakDropped []weakDrop                    // dropped payloads still listed (no strong pointer to them)
)

func newWeakPayload() {
	p := newPayload()
	key := bulkKeys.take(1)
	weakStrong = append(weakStrong, p)
	weakCache[key] = weak.Make(p)
	o := payloadObj(p, expectNone, roleControl, "weak/strong", sym("weakStrong"))
	o.Key, o.WeakRef = intPtr(key), sym("weakCache")
	record(o)
}

func setupWeak() error {
	weakCache = make(map[int]weak.Pointer[Payload])
	for i := 0; i < weakInitial; i++ {
		newWeakPayload()
	}
	if err := finishGrowth(weakCache, anyKey(weakCache)); err != nil {
		return err
	}
	c := mapContainer(sym("weakCache"), &weakCache, func(w weak.Pointer[Payload]) unsafe.Pointer {
		return unsafe.Pointer(w.Value())
	}, notGrowing)
	c.lookup = nil // the payloads are not held by the map: checked by checkWeak instead
	useContainers(c)
	atManifest = append(atManifest, dropWeak)
	truthChecks = append(truthChecks, checkWeak)
	verifyChecks = append(verifyChecks, verifyWeak)
	return nil
}

// dropWeak runs at manifest time, after the capture's GC (the hook's or -selfdump's) and
// before the dump: it drops weakBatch payloads from main.weakStrong, so in this dump they are
// reachable only through main.weakCache's weak pointers (garbage: the next GC frees them and
// clears the weak pointers). The payloads dropped for an earlier capture were freed by this
// capture's GC and are no longer listed (a capture without GC, `nogc`, keeps listing them).
func dropWeak() {
	kept := weakDropped[:0]
	for _, d := range weakDropped {
		if d.wp.Value() == nil {
			forget(d.addr)
		} else {
			kept = append(kept, d)
		}
	}
	weakDropped = kept
	for len(weakStrong) < weakMinKeep+weakBatch {
		newWeakPayload()
	}
	if err := finishGrowth(weakCache, anyKey(weakCache)); err != nil {
		panic(err.Error()) // the manifest callback's panic refuses the capture
	}
	for i := 0; i < weakBatch; i++ {
		last := len(weakStrong) - 1
		addr := ptr(weakStrong[last])
		weakStrong[last] = nil // the backing array must not keep it either
		weakStrong = weakStrong[:last]
		var wp weak.Pointer[Payload]
		update(addr, func(o *Object) {
			o.Label, o.Holder, o.Liveness = "weak/weak-only", "weak "+sym("weakCache"), liveGarbage
			wp = weakCache[*o.Key]
		})
		weakDropped = append(weakDropped, weakDrop{addr: addr, wp: wp})
	}
}

func anyKey[V any](m map[int]V) int {
	for k := range m {
		return k
	}
	return 0
}

// checkWeak: every listed payload is in main.weakCache under its key, strong ones are in
// main.weakStrong, dropped ones are not.
func checkWeak() error {
	strong := map[string]bool{}
	for _, p := range weakStrong {
		strong[ptr(p)] = true
	}
	for _, o := range snapshotRecords() {
		if o.WeakRef == "" {
			continue
		}
		wp, ok := weakCache[*o.Key]
		if !ok {
			return fmt.Errorf("weak: %s not in main.weakCache under key %d", o.Addr, *o.Key)
		}
		if p := wp.Value(); p == nil || uintptr(unsafe.Pointer(p)) != o.raw || p.ID != o.ID {
			return fmt.Errorf("weak: main.weakCache[%d] does not point to %s (ID %d)", *o.Key, o.Addr, o.ID)
		}
		if strong[o.Addr] != (o.Liveness == liveInUse) {
			return fmt.Errorf("weak: %s listed %s, in main.weakStrong: %v", o.Addr, o.Liveness, strong[o.Addr])
		}
	}
	return nil
}

// verifyWeak (-verify, after two GCs): the payloads listed as weak-only were freed (their
// weak pointers are nil), the strong ones were not.
func verifyWeak() error {
	for _, d := range weakDropped {
		if d.wp.Value() != nil {
			return fmt.Errorf("weak: %s was listed as garbage but survived two GCs", d.addr)
		}
	}
	for _, p := range weakStrong {
		for _, w := range weakCache {
			if w.Value() == p {
				p = nil
				break
			}
		}
		if p != nil {
			return fmt.Errorf("weak: a strong payload's weak pointer is gone")
		}
	}
	return nil
}

// ---- cleanup: objects reachable only through runtime.AddCleanup ----

// Resource is a cleanup's argument: the cleanup releases it when its owner is freed.
type Resource struct {
	ID   int
	Next *Resource
	Buf  [48]byte
}

var (
	cleanupOwners []*Payload // main.cleanupOwners: the owners, in use, so no cleanup runs
	cleanupArgs   []weak.Pointer[Resource]
	resourceSize  = unsafe.Sizeof(Resource{})
	typeResource  = fmt.Sprintf("%T", Resource{})
)

// releaseResource is the cleanup function: it captures nothing.
func releaseResource(r *Resource) {
	atomic.AddInt64(&cleanupsRun, 1)
}

// addOwnedResource makes an owner (kept in main.cleanupOwners) whose cleanup gets a Resource
// (and, with chain, a second Resource the first points to) that nothing else references: the
// runtime keeps it alive through the cleanup record, which a heap dump does not contain.
//
//go:noinline
func addOwnedResource(chain bool) {
	owner := newPayload()
	r := &Resource{ID: newID()}
	holder := "cleanup " + funcName(releaseResource)
	ro := obj(unsafe.Pointer(r), resourceSize, typeResource)
	ro.ID, ro.Expect, ro.Role, ro.Label, ro.Holder, ro.Liveness = r.ID, expectNone, roleControl, "cleanup/arg", holder, liveCleanupOnly
	record(ro)
	cleanupArgs = append(cleanupArgs, weak.Make(r))
	if chain {
		r.Next = &Resource{ID: newID()}
		no := obj(unsafe.Pointer(r.Next), resourceSize, typeResource)
		no.ID, no.Expect, no.Role, no.Label, no.Holder, no.Liveness = r.Next.ID, expectNone, roleControl, "cleanup/arg-chain", holder, liveCleanupOnly
		record(no)
		cleanupArgs = append(cleanupArgs, weak.Make(r.Next))
	}
	runtime.AddCleanup(owner, releaseResource, r)
	atomic.AddInt64(&cleanupsAdded, 1)
	cleanupOwners = append(cleanupOwners, owner)
	record(payloadObj(owner, expectNone, roleControl, "cleanup/owner", sym("cleanupOwners")))
}

func setupCleanup() error {
	for i := 0; i < cleanupOwnersN; i++ {
		addOwnedResource(i == 0)
	}
	verifyChecks = append(verifyChecks, verifyCleanup)
	return nil
}

// verifyCleanup (-verify, after two GCs): no cleanup ran (the owners are in use) and every
// argument listed as cleanup_only is still alive (the cleanup keeps it).
func verifyCleanup() error {
	if n := atomic.LoadInt64(&cleanupsRun); n != 0 {
		return fmt.Errorf("cleanup: %d cleanups ran, their owners are in use", n)
	}
	for i, w := range cleanupArgs {
		if w.Value() == nil {
			return fmt.Errorf("cleanup: argument %d was freed while its cleanup is registered", i)
		}
	}
	return nil
}
