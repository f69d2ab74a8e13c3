package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/patrickmn/go-cache"

	"heapsift.dev/samples/selfdump"
)

// ManifestSchema names the manifest format; README.md documents it.
const ManifestSchema = "heapsift-service-manifest/1"

// What heapsift should report a group as (manifest "expect").
const (
	expectGhost   = "ghost"
	expectPinned  = "finalizer_pinned"
	expectCycle   = "closure_cycle"
	expectControl = "control"
)

// Obj is one object, named by the address the program sees (%p: behind a malloc header that
// is the slot + 8).
type Obj struct {
	Addr string  `json:"addr"`
	Type string  `json:"type"`
	Size uintptr `json:"size"`

	raw uintptr
}

// Instance is one occurrence of a pattern: its primary objects (the ghost, the object with
// the finalizer, the members of the cycle) and what only it keeps alive (buffers, its
// journal, the finalizer's closure).
type Instance struct {
	Objects []Obj `json:"objects"`
	Kept    []Obj `json:"kept,omitempty"`
}

// Group is a planted leak or a control.
type Group struct {
	Label     string     `json:"label"`
	Expect    string     `json:"expect"`
	Type      string     `json:"type"`
	Holder    string     `json:"holder,omitempty"`
	Container string     `json:"container,omitempty"`
	Count     int        `json:"count"`
	Freed     int        `json:"freed,omitempty"`
	Note      string     `json:"note"`
	Instances []Instance `json:"instances"`
}

// Container is a map the service keeps values in, named by the Go expression a user writes.
type Container struct {
	Name       string  `json:"name"`
	Kind       string  `json:"kind"`
	Expr       string  `json:"expr"`
	Path       string  `json:"path"`
	GoType     string  `json:"go_type"`
	ValueType  string  `json:"value_type"`
	Addr       string  `json:"addr"`
	MapAddr    string  `json:"map_addr,omitempty"`
	Holder     string  `json:"holder"`
	HolderAddr string  `json:"holder_addr"`
	Field      string  `json:"field"`
	Offset     uintptr `json:"field_offset"`
	Entries    int     `json:"entries"`
	Tombstones int     `json:"tombstones"`
}

// Manifest is what the hook's callback and -selfdump write beside the dump.
type Manifest struct {
	Schema        string            `json:"schema"`
	Mode          string            `json:"mode"`
	Capture       string            `json:"capture"`
	GoVersion     string            `json:"go_version"`
	Goarch        string            `json:"goarch"`
	MallocHeaders bool              `json:"malloc_headers"`
	Modules       map[string]string `json:"modules"`
	Pid           int               `json:"pid"`
	UnixNs        int64             `json:"unix_ns"`
	AnalyzeArgs   []string          `json:"analyze_args"`
	Containers    []Container       `json:"containers"`
	Counts        map[string]int64  `json:"counts"`
	Groups        []Group           `json:"groups"`
}

// ---- what the handlers note (addresses only: the notes keep nothing alive) ----

var (
	noteMu        sync.Mutex
	pinnedExports []Instance
	pinnedTxns    []Instance
	leakedConns   []Instance
	inflight      = map[int64]Instance{}
	routeFuncs    []Obj
	singletonObjs []Obj
	lastEvicted   Instance

	finalizersDropped int64 // atomic: objects given a finalizer that must run
	finalizersRun     int64 // atomic
)

func obj(p unsafe.Pointer, size uintptr, typ string) Obj {
	return Obj{Addr: fmt.Sprintf("%p", p), raw: uintptr(p), Size: size, Type: typ}
}

// closureObj describes a funcval capturing n pointer words.
func closureObj(fv unsafe.Pointer, n uintptr) Obj {
	return obj(fv, (1+n)*unsafe.Sizeof(uintptr(0)), "closure "+selfdump.FuncvalName(fv))
}

func bytesObj(b []byte) Obj {
	return obj(unsafe.Pointer(&b[:1][0]), uintptr(cap(b)), "[]uint8")
}

func stringObj(s string) Obj {
	return obj(unsafe.Pointer((*reflect.StringHeader)(unsafe.Pointer(&s)).Data), uintptr(len(s)), "string")
}

func typeName(v interface{}) string { return reflect.TypeOf(v).Elem().String() }

func notePinnedExport(w *exportWriter, fin unsafe.Pointer) {
	noteMu.Lock()
	defer noteMu.Unlock()
	pinnedExports = append(pinnedExports, Instance{
		Objects: []Obj{obj(unsafe.Pointer(w), unsafe.Sizeof(*w), typeName(w))},
		Kept:    []Obj{bytesObj(w.buf), closureObj(fin, 1)},
	})
}

func notePinnedTxn(t *txn) {
	noteMu.Lock()
	defer noteMu.Unlock()
	pinnedTxns = append(pinnedTxns, Instance{
		Objects: []Obj{obj(unsafe.Pointer(t), unsafe.Sizeof(*t), typeName(t))},
		Kept: []Obj{obj(unsafe.Pointer(t.journal), unsafe.Sizeof(*t.journal), typeName(t.journal)),
			bytesObj(t.journal.entries)},
	})
}

func noteConn(c *wsConn, fv unsafe.Pointer) {
	noteMu.Lock()
	defer noteMu.Unlock()
	leakedConns = append(leakedConns, Instance{
		Objects: []Obj{obj(unsafe.Pointer(c), unsafe.Sizeof(*c), typeName(c)), closureObj(fv, 1)},
		Kept:    []Obj{bytesObj(c.out)},
	})
}

// noteInFlight notes a request waiting in its handler; done forgets it.
func noteInFlight(rs *reqState) (done func()) {
	noteMu.Lock()
	defer noteMu.Unlock()
	inflight[rs.ID] = Instance{
		Objects: []Obj{obj(unsafe.Pointer(rs), unsafe.Sizeof(*rs), typeName(rs)), closureObj(selfdump.FuncvalOf(rs.onDone), 1)},
		Kept:    []Obj{bytesObj(rs.scratch)},
	}
	return func() {
		noteMu.Lock()
		delete(inflight, rs.ID)
		noteMu.Unlock()
	}
}

func inFlight() int {
	noteMu.Lock()
	defer noteMu.Unlock()
	return len(inflight)
}

func noteRoute(fv unsafe.Pointer) {
	noteMu.Lock()
	defer noteMu.Unlock()
	routeFuncs = append(routeFuncs, closureObj(fv, 1))
}

func noteSingleton(s *server, onEvict unsafe.Pointer) {
	noteMu.Lock()
	defer noteMu.Unlock()
	singletonObjs = []Obj{obj(unsafe.Pointer(s), unsafe.Sizeof(*s), typeName(s)),
		obj(unsafe.Pointer(s.router), reflect.TypeOf(*s.router).Size(), typeName(s.router)),
		closureObj(onEvict, 1)}
}

func noteEvicted(it *item) {
	noteMu.Lock()
	defer noteMu.Unlock()
	lastEvicted = Instance{Objects: []Obj{obj(unsafe.Pointer(it), unsafe.Sizeof(*it), typeName(it))},
		Kept: []Obj{bytesObj(it.Data)}}
}

func finalizerDropped() { atomic.AddInt64(&finalizersDropped, 1) }

// awaitFinalizers waits until the finalizer of every object the service dropped has run (the
// fixed mode's export writers and transactions; the leaky mode's are pinned and never run).
func awaitFinalizers() error {
	deadline := time.Now().Add(time.Minute)
	for atomic.LoadInt64(&finalizersRun) < atomic.LoadInt64(&finalizersDropped) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d finalizers did not run within a minute",
				atomic.LoadInt64(&finalizersDropped)-atomic.LoadInt64(&finalizersRun), atomic.LoadInt64(&finalizersDropped))
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// settle collects twice, each time waiting for the dropped objects' finalizers: afterwards
// no finalizer of the service is queued and the objects whose finalizer ran are freed.
func settle() error {
	return selfdump.Settle(awaitFinalizers)
}

func modules() map[string]string {
	out := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			out[d.Path] = d.Version
		}
	}
	return out
}

func clone(in []Instance) []Instance { return append([]Instance(nil), in...) }

// buildManifest describes what the service holds now, after a GC (the hook's or
// -selfdump's), and checks every claim it can check from inside: a manifest that would say
// something false is an error, never returned.
func buildManifest(capture string) (*Manifest, error) {
	if err := awaitFinalizers(); err != nil {
		return nil, err
	}
	s := srv
	fixed := s.fixed
	mode := "leaky"
	if fixed {
		mode = "fixed"
	}
	var errs []string
	check := func(ok bool, format string, args ...interface{}) {
		if !ok {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	want := func(leaky, fix int) int {
		if fixed {
			return fix
		}
		return leaky
	}

	// Sessions: in the cache and the notifier (active), or only in the notifier (ghosts).
	s.notify.mu.Lock()
	subs := append([]*session(nil), s.notify.subs...)
	s.notify.mu.Unlock()
	cached := s.sessions.Items()
	ghostSess := Group{Label: "ghost/go-cache-notifier", Expect: expectGhost, Type: typeName(&session{}),
		Holder: "main.srv.notify.subs", Container: "main.srv.sessions",
		Note: "/logout deletes the session from go-cache but leaves it in the notifier's list"}
	activeSess := Group{Label: "control/session-active", Expect: expectControl, Type: typeName(&session{}),
		Holder: "main.srv.sessions", Container: "main.srv.sessions",
		Note: "logged in: in go-cache and in the notifier's list"}
	for _, ss := range subs {
		inst := Instance{Objects: []Obj{obj(unsafe.Pointer(ss), unsafe.Sizeof(*ss), typeName(ss))},
			Kept: []Obj{bytesObj(ss.Prefs)}}
		if v, ok := cached[ss.Token]; ok {
			check(v.Object.(*session) == ss, "session %s: another object in the cache", ss.Token)
			activeSess.Instances = append(activeSess.Instances, inst)
		} else {
			inst.Kept = append(inst.Kept, stringObj(ss.Token)) // the cache's key no longer shares it
			ghostSess.Instances = append(ghostSess.Instances, inst)
		}
	}
	check(len(cached) == len(activeSess.Instances), "%d sessions cached, %d of them subscribed", len(cached), len(activeSess.Instances))
	check(len(ghostSess.Instances) == want(nLogouts, 0), "%d session ghosts", len(ghostSess.Instances))
	check(len(activeSess.Instances) == nLogins-nLogouts-nRevokes, "%d active sessions", len(activeSess.Instances))
	freedSess := Group{Label: "control/session-removed", Expect: expectControl, Type: typeName(&session{}),
		Freed: want(nRevokes, nLogouts+nRevokes), Instances: []Instance{},
		Note: "revoked (and, fixed, logged out): deleted from go-cache and the notifier, freed"}

	// Uploads: in progress in the sync.Map, or completed and kept by the audit log (ghosts).
	s.auditMu.Lock()
	audit := append([]*upload(nil), s.audit...)
	audited := len(s.auditLog)
	s.auditMu.Unlock()
	ghostUp := Group{Label: "ghost/sync-map-audit", Expect: expectGhost, Type: typeName(&upload{}),
		Holder: "main.srv.audit", Container: "main.srv.uploads",
		Note: "/complete takes the upload out of the sync.Map and appends the *upload to the audit log"}
	for _, u := range audit {
		_, still := s.uploads.Load(u.ID)
		check(!still, "audited upload %d still in the map", u.ID)
		ghostUp.Instances = append(ghostUp.Instances, Instance{
			Objects: []Obj{obj(unsafe.Pointer(u), unsafe.Sizeof(*u), typeName(u))}, Kept: []Obj{bytesObj(u.Data)}})
	}
	check(len(ghostUp.Instances) == want(nCompleted, 0), "%d upload ghosts", len(ghostUp.Instances))
	check(audited == want(0, nCompleted), "%d audit records", audited)
	openUp := Group{Label: "control/upload-in-progress", Expect: expectControl, Type: typeName(&upload{}),
		Holder: "main.srv.uploads", Container: "main.srv.uploads", Note: "started, in the sync.Map"}
	s.uploads.Range(func(k, v interface{}) bool {
		u := v.(*upload)
		check(k.(int) == u.ID, "upload %d stored under %v", u.ID, k)
		openUp.Instances = append(openUp.Instances, Instance{
			Objects: []Obj{obj(unsafe.Pointer(u), unsafe.Sizeof(*u), typeName(u))}, Kept: []Obj{bytesObj(u.Data)}})
		return true
	})
	check(len(openUp.Instances) == nOpenUploads, "%d uploads in progress", len(openUp.Instances))
	freedUp := Group{Label: "control/upload-removed", Expect: expectControl, Type: typeName(&upload{}),
		Freed: want(nCancelled, nCancelled+nCompleted), Instances: []Instance{},
		Note: "cancelled (and, fixed, completed and audited by value): deleted from the sync.Map, freed"}

	noteMu.Lock()
	exports, txns, conns := clone(pinnedExports), clone(pinnedTxns), clone(leakedConns)
	var flying []Instance
	for _, in := range inflight {
		flying = append(flying, in)
	}
	routes := append([]Obj(nil), routeFuncs...)
	single := append(append([]Obj(nil), singletonObjs...), routes...)
	evicted := lastEvicted
	noteMu.Unlock()
	sort.Slice(flying, func(i, j int) bool { return flying[i].Objects[0].raw < flying[j].Objects[0].raw })

	finName := "?"
	if len(exports) > 0 {
		finName = strings.TrimPrefix(exports[0].Kept[1].Type, "closure ")
	}
	pinExp := Group{Label: "pin/finalizer-closure", Expect: expectPinned, Type: typeName(&exportWriter{}),
		Holder: "finalizer " + finName, Instances: exports,
		Note: "/exports: the writer's finalizer is a closure capturing the writer (64 KiB buffer each)"}
	check(len(exports) == want(nExports, 0), "%d pinned exports", len(exports))
	pinTxn := Group{Label: "pin/finalizer-cycle", Expect: expectPinned, Type: typeName(&txn{}),
		Holder: "finalizer main.finalizeTxn", Instances: txns,
		Note: "/txns: finalizer on the txn, whose journal points back at it (128 KiB journal each)"}
	check(len(txns) == want(nTxns, 0), "%d pinned txns", len(txns))
	check(atomic.LoadInt64(&finalizersRun) == atomic.LoadInt64(&finalizersDropped),
		"%d finalizers ran, %d objects dropped", atomic.LoadInt64(&finalizersRun), atomic.LoadInt64(&finalizersDropped))

	cyc := Group{Label: "cycle/listener-method-value", Expect: expectCycle, Type: typeName(&wsConn{}),
		Holder: "main.bus.listeners", Instances: conns,
		Note: "/events: c.onEvent = c.handle registered on the global bus and never unsubscribed"}
	bus.mu.Lock()
	onBus := map[string]bool{}
	for _, l := range bus.listeners {
		onBus[fmt.Sprintf("%p", selfdump.FuncvalOf(l.fn))] = true
	}
	bus.mu.Unlock()
	check(len(onBus) == len(conns), "%d listeners on the bus, %d conns noted", len(onBus), len(conns))
	for _, in := range conns {
		check(onBus[in.Objects[1].Addr], "conn %s: its listener is not on the bus", in.Objects[0].Addr)
	}
	check(len(conns) == want(nConns, 0), "%d leaked conns", len(conns))

	// Controls that are not containers' values.
	outer := unsafe.Pointer(s.sessions)
	inner := *(*unsafe.Pointer)(outer) // cache.Cache embeds *cache
	itemsField, _ := reflect.TypeOf(cache.Cache{}).Field(0).Type.Elem().FieldByName("items")
	janitor := Group{Label: "control/go-cache-janitor", Expect: expectControl, Type: typeName(s.sessions),
		Holder: "main.srv.sessions", Count: 1,
		Instances: []Instance{{Objects: []Obj{obj(outer, unsafe.Sizeof(*s.sessions), typeName(s.sessions))},
			Kept: []Obj{obj(inner, reflect.TypeOf(cache.Cache{}).Field(0).Type.Elem().Size(), "cache.cache")}}},
		Note: "go-cache sets runtime.SetFinalizer(C, stopJanitor) on the outer *cache.Cache, which is in use: a correct finalizer"}
	router := Group{Label: "control/router-singleton", Expect: expectControl, Type: typeName(s),
		Holder: "main.srv", Count: 1, Instances: []Instance{{Objects: single}},
		Note: "the server, its mux router and its handlers (method values of the server, registered once), and the LRU's eviction callback: one instance of a method-value cycle"}
	flight := Group{Label: "control/in-flight-request", Expect: expectControl, Type: typeName(&reqState{}),
		Holder: "goroutine main.(*server).handleSlow", Instances: flying,
		Note: "requests waiting in /slow at capture time: rs.onDone = rs.finish, on the handler's stack"}
	done := Group{Label: "control/request-done", Expect: expectControl, Type: typeName(&reqState{}),
		Freed: nWork, Instances: []Instance{}, Note: "/work: the same cycle, dead with its request, freed"}
	lruItems := Group{Label: "control/lru-items", Expect: expectControl, Type: typeName(&item{}),
		Holder: "main.srv.items", Note: "values of the golang-lru cache"}
	for _, it := range s.items.Values() {
		lruItems.Instances = append(lruItems.Instances, Instance{
			Objects: []Obj{obj(unsafe.Pointer(it), unsafe.Sizeof(*it), typeName(it))}, Kept: []Obj{bytesObj(it.Data)}})
	}
	lruEvicted := Group{Label: "control/lru-evicted", Expect: expectControl, Type: typeName(&item{}),
		Holder: "main.srv.items", Freed: int(atomic.LoadInt64(&s.evicted)), Instances: []Instance{},
		Note: "evicted from the LRU and freed, except the last one, which golang-lru's evictedVals buffer still holds past its length"}
	if len(evicted.Objects) > 0 {
		lruEvicted.Freed--
		lruEvicted.Instances = append(lruEvicted.Instances, evicted)
	}
	groups := []Group{ghostSess, ghostUp, pinExp, pinTxn, cyc,
		activeSess, freedSess, openUp, freedUp, janitor, router, flight, done, lruItems, lruEvicted}
	if fixed {
		groups = append(groups,
			Group{Label: "control/export-finalized", Expect: expectControl, Type: typeName(&exportWriter{}), Freed: nExports,
				Instances: []Instance{}, Note: "fixed: a finalizer that does not capture the writer; it ran and the writer was freed"},
			Group{Label: "control/txn-finalized", Expect: expectControl, Type: typeName(&txn{}), Freed: nTxns,
				Instances: []Instance{}, Note: "fixed: the journal names its txn by ID; the finalizer ran and both were freed"},
			Group{Label: "control/conn-unsubscribed", Expect: expectControl, Type: typeName(&wsConn{}), Freed: nConns,
				Instances: []Instance{}, Note: "fixed: close unsubscribes from the bus; the connection was freed"})
	}
	for i := range groups {
		if groups[i].Instances == nil {
			groups[i].Instances = []Instance{}
		}
		groups[i].Count = len(groups[i].Instances)
	}
	checkUnique(groups, check)
	if len(errs) > 0 {
		return nil, errors.New("manifest: " + strings.Join(errs, "; "))
	}

	fieldOff := func(name string) uintptr {
		f, _ := reflect.TypeOf(server{}).FieldByName(name)
		return f.Offset
	}
	srvAddr := uintptr(unsafe.Pointer(s))
	return &Manifest{
		Schema: ManifestSchema, Mode: mode, Capture: capture,
		GoVersion: runtime.Version(), Goarch: runtime.GOARCH, MallocHeaders: selfdump.GoMinor() >= 22 || selfdump.GoMinor() < 0,
		Modules: modules(), Pid: os.Getpid(), UnixNs: time.Now().UnixNano(),
		AnalyzeArgs: []string{"--container", "main.srv.sessions.items"},
		Containers: []Container{
			{Name: "main.srv.sessions", Kind: "go-cache", Expr: "main.srv.sessions.items", Path: "main.srv.sessions.cache.items",
				GoType: itemsField.Type.String(), ValueType: "*" + typeName(&session{}),
				Addr: fmt.Sprintf("%p", outer), MapAddr: fmt.Sprintf("%#x", *(*uintptr)(unsafe.Add(inner, itemsField.Offset))),
				Holder: "main.srv", HolderAddr: fmt.Sprintf("%#x", srvAddr), Field: "sessions", Offset: fieldOff("sessions"),
				Entries: len(cached)},
			{Name: "main.srv.uploads", Kind: "sync.Map", Expr: "main.srv.uploads", Path: "main.srv.uploads",
				GoType: "sync.Map", ValueType: "*" + typeName(&upload{}),
				Addr:   fmt.Sprintf("%p", &s.uploads),
				Holder: "main.srv", HolderAddr: fmt.Sprintf("%#x", srvAddr), Field: "uploads", Offset: fieldOff("uploads"),
				Entries: len(openUp.Instances)},
		},
		Counts: map[string]int64{
			"logins": nLogins, "logouts": nLogouts, "revokes": nRevokes,
			"uploads_started": nUploads + nOpenUploads, "uploads_completed": nCompleted, "uploads_cancelled": nCancelled,
			"exports": nExports, "txns": nTxns, "conns": nConns, "work": nWork, "item_ops": nItemOps,
			"lru_evictions":      atomic.LoadInt64(&s.evicted),
			"finalizers_dropped": atomic.LoadInt64(&finalizersDropped),
			"finalizers_run":     atomic.LoadInt64(&finalizersRun),
			"in_flight":          int64(len(flying)),
		},
		Groups: groups,
	}, nil
}

// checkUnique checks that no address is listed twice and none is zero.
func checkUnique(groups []Group, check func(bool, string, ...interface{})) {
	seen := map[uintptr]string{}
	for _, g := range groups {
		for _, in := range g.Instances {
			for _, o := range append(append([]Obj(nil), in.Objects...), in.Kept...) {
				check(o.raw != 0, "%s: a zero address", g.Label)
				if prev, ok := seen[o.raw]; ok {
					check(false, "%s: %s also listed by %s", g.Label, o.Addr, prev)
				}
				seen[o.raw] = g.Label
			}
		}
	}
}
