package main

import (
	"encoding/json"
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

	"heapsift.dev/samples/selfdump"
)

// ManifestSchema names the manifest format; samples/README.md documents it.
const ManifestSchema = "heapsift-manifest/2"

// What the analyzer is expected to report for an object (manifest "expect").
const (
	expectNone      = "none"
	expectGhost     = "ghost"
	expectPinned    = "finalizer_pinned"
	expectCycle     = "closure_cycle"
	rolePlanted     = "planted"
	roleControl     = "control"
	finNone         = ""
	finKept         = "kept"    // has a finalizer that must not run while the program lives
	finPending      = "pending" // has a finalizer that must run at the next GC
	typeClosure     = "closure"
	typeFuncArray   = "[]func()"
	funcvalOnePtrSz = 16 // funcval{fn, one captured pointer}
)

// Liveness: what the garbage collector does with the object (manifest "liveness"). The
// workload's Go tests check every claim against the dump's own reachability.
const (
	liveInUse        = "in_use"            // reachable: from globals, stacks, finalizer functions, or the pointees of finalizer objects
	liveGarbage      = "garbage"           // unreachable: the next GC frees it
	liveFinPending   = "finalizer_pending" // unreachable but has a finalizer: the next GC queues the finalizer
	liveCleanupOnly  = "cleanup_only"      // reachable only through a runtime.AddCleanup (not in the dump): the GC keeps it
	syncMapLayout119 = "1.19"
	syncMapLayout120 = "1.20-1.23 atomic.Pointer"
	syncMapLayout124 = "1.24+ HashTrieMap"
)

// Symbol names of the workload's package: "main.X" in the mapworkload binary, the import
// path instead of "main" in its test binary. Type names use the package name: "main.X".
var (
	pkgSym         = strings.TrimSuffix(funcName(finalizeHandle), ".finalizeHandle")
	containerStore = sym("store")
	containerReg   = sym("registry")
	containerGuard = sym("guarded")
	typePayload    = reflect.TypeOf(Payload{}).String()
	typeHandle     = reflect.TypeOf(Handle{}).String()
	typeSmall      = reflect.TypeOf(Small{}).String()
)

func sym(name string) string { return pkgSym + "." + name }

// Object is one manifest entry: an object the program planted or a control, named by the
// address the program sees (%p).
type Object struct {
	Addr      string  `json:"addr"`
	Size      uintptr `json:"size"`
	Type      string  `json:"type"`
	ID        int     `json:"id,omitempty"`
	Expect    string  `json:"expect"`
	Role      string  `json:"role"`
	Label     string  `json:"label"`
	Holder    string  `json:"holder"`
	Liveness  string  `json:"liveness"`
	Container string  `json:"container,omitempty"`
	Key       *int    `json:"key,omitempty"`
	WeakRef   string  `json:"weak_ref,omitempty"`
	Group     int     `json:"group,omitempty"`
	Finalizer string  `json:"finalizer,omitempty"`

	raw uintptr // the address, for the checks made before a manifest is written
}

// Container is a map the workload keeps values in.
type Container struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Addr        string   `json:"addr"`
	Anonymous   bool     `json:"anonymous,omitempty"`
	Holder      string   `json:"holder,omitempty"`
	HolderAddr  string   `json:"holder_addr,omitempty"`
	Field       string   `json:"field,omitempty"`
	FieldOffset *uintptr `json:"field_offset,omitempty"`
	Heap        bool     `json:"heap,omitempty"`
	ValueType   string   `json:"value_type,omitempty"`
	MapAddr     string   `json:"map_addr,omitempty"`
	Entries     *int     `json:"entries,omitempty"`
	MidGrowth   *bool    `json:"mid_growth,omitempty"`
	HmapB       *int     `json:"hmap_b,omitempty"`
	SwissShape  string   `json:"swiss_shape,omitempty"`
	SwissDirLen *int     `json:"swiss_dir_len,omitempty"`
	SwissTables *int     `json:"swiss_tables,omitempty"`

	// lookup returns the pointer stored under key (the *Payload of a value struct).
	lookup func(key int) (unsafe.Pointer, bool)
	// count returns the live entries (nil: not counted, e.g. the soak's big store).
	count func() int
	// inspect re-reads the map's runtime layout into the shape fields (Go maps only).
	inspect func(c *Container) error
}

// Counts are numbers a reader of the dump can check (README: which are exact).
type Counts struct {
	Exact                bool           `json:"exact"`
	StoreLive            int64          `json:"store_live"`
	RegistryLive         int64          `json:"registry_live"`
	GuardedLive          int64          `json:"guarded_live"`
	Goroutines           int64          `json:"goroutines"`
	FinalizersSet        int64          `json:"finalizers_set"`
	FinalizersRun        int64          `json:"finalizers_run"`
	FinalizersRegistered int64          `json:"finalizers_registered"`
	CleanupsAdded        int64          `json:"cleanups_added"`
	CleanupsRun          int64          `json:"cleanups_run"`
	Tombstones           map[string]int `json:"tombstones"`
}

// Manifest is what the hook's callback and -selfdump write beside the dump.
type Manifest struct {
	Schema               string      `json:"schema"`
	Scenario             string      `json:"scenario"`
	GoVersion            string      `json:"go_version"`
	Goarch               string      `json:"goarch"`
	SyncMapLayout        string      `json:"sync_map_layout"`
	MapLayout            string      `json:"map_layout"`
	MallocHeaders        bool        `json:"malloc_headers"`
	TombstonesApplicable bool        `json:"tombstones_applicable"`
	TombstonesReason     string      `json:"tombstones_reason"`
	Pid                  int         `json:"pid"`
	UnixNs               int64       `json:"unix_ns"`
	Containers           []Container `json:"containers"`
	Counts               Counts      `json:"counts"`
	Objects              []Object    `json:"objects"`
	TombstoneKeys        []int       `json:"tombstone_keys,omitempty"`
	DeletedKeys          []int       `json:"deleted_keys,omitempty"`
}

var (
	recMu     sync.Mutex
	records   []*Object          // insertion order; nil slots are forgotten objects
	recIndex  = map[string]int{} // addr -> index in records
	nextGroup int

	scenarioName string
	containers   = []Container{}
	tombstones   map[string]int // nil when not known exactly (soak)
	deletedKeys  []int          // the tombstone scenario's deleted keys
	exactCounts  = true

	storeLive, registryLive, guardedLive int64 // atomics
	goroutines                           int64 // atomic: workload goroutines alive
	finalizersSet, finalizersRun         int64 // atomics
	cleanupsAdded, cleanupsRun           int64 // atomics

	finMu      sync.Mutex
	finLog     []time.Time // the seed scenario's finalizer log
	finRanByID = map[int]bool{}
	finSetByID = map[int]bool{}

	// Extra work run at manifest time, e.g. creating the pending finalizer controls.
	atManifest []func()
	// Scenario checks of the truth run before a manifest is written (besides the generic ones).
	truthChecks []func() error
	// The soak pauses its churn from the manifest to the end of the dump (-selfdump) or of the
	// manifest callback (hook). Nil in other scenarios.
	lockChurn, unlockChurn func()
)

var nextID int64

func newID() int { return int(atomic.AddInt64(&nextID, 1)) }

func addrOf(p unsafe.Pointer) string { return fmt.Sprintf("%p", p) }

// funcName returns the name of the function a func value runs, as the symbol table has it.
func funcName[F any](fn F) string {
	return selfdump.FuncvalName(selfdump.FuncvalOf(fn))
}

func newGroup() int {
	recMu.Lock()
	defer recMu.Unlock()
	nextGroup++
	return nextGroup
}

// obj starts a manifest entry for the object at p (a live pointer: its address is taken now).
func obj(p unsafe.Pointer, size uintptr, typ string) Object {
	return Object{Addr: addrOf(p), raw: uintptr(p), Size: size, Type: typ, Liveness: liveInUse}
}

func record(o Object) {
	if o.raw == 0 {
		panic("mapworkload: record without an address: " + o.Label)
	}
	recMu.Lock()
	defer recMu.Unlock()
	if i, ok := recIndex[o.Addr]; ok {
		records[i] = &o
		return
	}
	recIndex[o.Addr] = len(records)
	records = append(records, &o)
}

// update changes the entry for addr in place (e.g. a value deleted from the map becomes a ghost).
func update(addr string, f func(o *Object)) {
	recMu.Lock()
	defer recMu.Unlock()
	if i, ok := recIndex[addr]; ok && records[i] != nil {
		f(records[i])
	}
}

// forget drops an object that is about to become garbage.
func forget(addr string) {
	recMu.Lock()
	defer recMu.Unlock()
	if i, ok := recIndex[addr]; ok {
		records[i] = nil
		delete(recIndex, addr)
	}
}

func snapshotRecords() []Object {
	recMu.Lock()
	defer recMu.Unlock()
	out := make([]Object, 0, len(records))
	for _, o := range records {
		if o != nil {
			out = append(out, *o)
		}
	}
	return out
}

// syncMapLayoutName names sync.Map's layout by its fields (reflect, so that a GOEXPERIMENT
// that keeps the old sync.Map on Go 1.24 is seen as such): Go 1.9-1.19 `read atomic.Value`,
// Go 1.20-1.23 `read atomic.Pointer[readOnly]`, Go 1.24+ `m isync.HashTrieMap[any, any]`.
func syncMapLayoutName() string {
	t := reflect.TypeOf(sync.Map{})
	if f, ok := t.FieldByName("m"); ok && strings.Contains(f.Type.String(), "HashTrieMap") {
		return syncMapLayout124
	}
	if f, ok := t.FieldByName("read"); ok {
		if strings.Contains(f.Type.String(), "Pointer") {
			return syncMapLayout120
		}
		return syncMapLayout119
	}
	return "unknown: " + t.String()
}

// syncMapTombstones says whether Delete leaves tombstones in sync.Map's read map: in the
// read-map/dirty-map sync.Map (Go 1.9 to 1.23). From Go 1.24 sync.Map is a hash-trie and
// Delete removes the entry.
func syncMapTombstones() bool { return syncMapLayoutName() != syncMapLayout124 }

func tombstonesReason() string {
	if syncMapTombstones() {
		return "sync.Map has a read map (" + syncMapLayoutName() + "): Delete of a key in the read map leaves its entry (nil, later expunged) until the next promotion of the dirty map"
	}
	return "sync.Map is a HashTrieMap (Go 1.24+): Delete removes the entry, deleted keys leave nothing behind"
}

func addTombstones(container string, n int) {
	if tombstones == nil {
		return
	}
	if syncMapTombstones() {
		tombstones[container] += n
	} else {
		tombstones[container] += 0
	}
}

// setFinalizer sets fn as obj's finalizer and notes it (id: the object's ID).
func setFinalizer[T any](obj *T, id int, fn func(*T)) {
	runtime.SetFinalizer(obj, fn)
	finMu.Lock()
	finSetByID[id] = true
	finMu.Unlock()
	atomic.AddInt64(&finalizersSet, 1)
}

// awaitFinalizers waits until every workload finalizer that can run has run: each object that
// got a finalizer and is not listed with finalizer "kept" is unreachable (the workload dropped
// it), so after a GC its finalizer is queued, and this waits for exactly those to run. It
// fails (rather than let a manifest claim a wrong count) after a minute.
func awaitFinalizers() error {
	kept := map[int]bool{}
	for _, o := range snapshotRecords() {
		if o.Finalizer == finKept {
			kept[o.ID] = true
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var missing []int
		finMu.Lock()
		for id := range finSetByID {
			if !kept[id] && !finRanByID[id] {
				missing = append(missing, id)
			}
		}
		finMu.Unlock()
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			sort.Ints(missing)
			return fmt.Errorf("finalizers of %d unreachable objects did not run within a minute (ids %v)", len(missing), missing[:clamp(len(missing), 0, 10)])
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle collects garbage twice and waits for the finalizers: after it, objects whose
// finalizer ran are freed and every count in the manifest is stable.
func settle() error {
	return selfdump.Settle(awaitFinalizers)
}

// buildManifest runs the scenario's manifest-time work, checks every claim it can check
// from inside the program and returns the manifest, or an error: a manifest that would say
// something false is never returned. It is called after a GC (the hook's or -selfdump's).
// With the soak it leaves the churn paused: the caller calls unlockChurn.
func buildManifest() (_ *Manifest, err error) {
	if lockChurn != nil {
		lockChurn()
		defer func() {
			if err != nil {
				unlockChurn()
			}
		}()
	}
	if err := awaitFinalizers(); err != nil {
		return nil, err
	}
	for _, f := range atManifest {
		f()
	}
	m := &Manifest{
		Schema:               ManifestSchema,
		Scenario:             scenarioName,
		GoVersion:            runtime.Version(),
		Goarch:               runtime.GOARCH,
		SyncMapLayout:        syncMapLayoutName(),
		MapLayout:            mapLayout,
		MallocHeaders:        mallocHeaders,
		TombstonesApplicable: syncMapTombstones(),
		TombstonesReason:     tombstonesReason(),
		Pid:                  os.Getpid(),
		UnixNs:               time.Now().UnixNano(),
		Objects:              snapshotRecords(),
	}
	set, ran := atomic.LoadInt64(&finalizersSet), atomic.LoadInt64(&finalizersRun)
	m.Counts = Counts{
		Exact:                exactCounts,
		StoreLive:            atomic.LoadInt64(&storeLive),
		RegistryLive:         atomic.LoadInt64(&registryLive),
		GuardedLive:          atomic.LoadInt64(&guardedLive),
		Goroutines:           atomic.LoadInt64(&goroutines),
		FinalizersSet:        set,
		FinalizersRun:        ran,
		FinalizersRegistered: set - ran,
		CleanupsAdded:        atomic.LoadInt64(&cleanupsAdded),
		CleanupsRun:          atomic.LoadInt64(&cleanupsRun),
		Tombstones:           tombstones,
	}
	if len(deletedKeys) > 0 {
		m.DeletedKeys = append([]int(nil), deletedKeys...)
		sort.Ints(m.DeletedKeys)
		if syncMapTombstones() {
			m.TombstoneKeys = m.DeletedKeys
		}
	}
	m.Containers = make([]Container, len(containers))
	copy(m.Containers, containers)
	if err := checkTruth(m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkTruth checks the manifest against the program's own state: every in-map object is
// exactly what Load(key) returns (same pointer, same ID), no ghost is still stored under its
// key, every container holds the entries it claims and is in the layout it claims.
func checkTruth(m *Manifest) error {
	var bad []string
	fail := func(format string, args ...interface{}) { bad = append(bad, fmt.Sprintf(format, args...)) }
	byName := map[string]*Container{}
	for i := range m.Containers {
		c := &m.Containers[i]
		byName[c.Name] = c
		if c.inspect != nil {
			if err := c.inspect(c); err != nil {
				fail("container %s: %v", c.Name, err)
			}
		}
		if c.count != nil {
			n := c.count()
			if c.Entries != nil && *c.Entries != n {
				fail("container %s: %d entries, layout says %d", c.Name, n, *c.Entries)
			}
			c.Entries = intPtr(n)
		}
	}
	seen := map[string]bool{}
	for _, o := range m.Objects {
		if o.raw == 0 || o.Addr != fmt.Sprintf("0x%x", o.raw) || seen[o.Addr] {
			fail("%s %s: bad or duplicate address", o.Label, o.Addr)
		}
		seen[o.Addr] = true
		switch o.Liveness {
		case liveInUse, liveGarbage, liveFinPending, liveCleanupOnly:
		default:
			fail("%s %s: liveness %q", o.Label, o.Addr, o.Liveness)
		}
		if (o.Role == rolePlanted) != (o.Expect != expectNone) || o.Label == "" || o.Holder == "" {
			fail("%s %s: role %q, expect %q, holder %q", o.Label, o.Addr, o.Role, o.Expect, o.Holder)
		}
		if o.Key == nil || o.Container == "" {
			continue
		}
		c := byName[o.Container]
		if c == nil || c.lookup == nil {
			fail("%s %s: container %q unknown", o.Label, o.Addr, o.Container)
			continue
		}
		p, ok := c.lookup(*o.Key)
		if o.Expect == expectGhost {
			if ok && uintptr(p) == o.raw {
				fail("ghost %s %s is still stored in %s under key %d", o.Label, o.Addr, o.Container, *o.Key)
			}
			continue
		}
		switch {
		case !ok:
			fail("%s %s: %s has no key %d", o.Label, o.Addr, o.Container, *o.Key)
		case uintptr(p) != o.raw:
			fail("%s %s: %s holds %p under key %d", o.Label, o.Addr, o.Container, p, *o.Key)
		case *(*int)(p) != o.ID:
			fail("%s %s: %s's value under key %d has ID %d, recorded %d", o.Label, o.Addr, o.Container, *o.Key, *(*int)(p), o.ID)
		}
	}
	for _, f := range truthChecks {
		if err := f(); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		if len(bad) > 20 {
			bad = append(bad[:20], fmt.Sprintf("and %d more", len(bad)-20))
		}
		return errors.New("the manifest would not be true: " + strings.Join(bad, "; "))
	}
	return nil
}

// manifestJSON is the hook's manifest callback. A manifest that cannot be made true makes it
// panic: the hook then refuses the capture (error reply, nothing written to the data fd).
// Automatic GC is off while it runs, so that its own allocations cannot start a collection
// between the manifest-time work (pending controls, weak drops) and the dump; the hook calls
// WriteHeapDump right after it returns.
func manifestJSON() []byte {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	m, err := buildManifest()
	if err != nil {
		panic(err.Error())
	}
	b, err := json.Marshal(m)
	if unlockChurn != nil {
		unlockChurn()
	}
	if err != nil {
		panic("manifest: " + err.Error())
	}
	return b
}

// noteFinalizer is called by every workload finalizer with the object's ID.
func noteFinalizer(id int) {
	finMu.Lock()
	finRanByID[id] = true
	finLog = append(finLog, time.Now())
	finMu.Unlock()
	atomic.AddInt64(&finalizersRun, 1)
}

func finalizerRan(id int) bool {
	finMu.Lock()
	defer finMu.Unlock()
	return finRanByID[id]
}

// verify checks the manifest's runtime claims against the runtime itself after two more
// collections: "kept" finalizers (pinned objects, objects in use) never ran, "pending" ones
// (unreachable controls) did; scenario checks (weak pointers, cleanups) follow.
func verify() error {
	if err := settle(); err != nil {
		return fmt.Errorf("verify: %v", err)
	}
	var bad []string
	for _, o := range snapshotRecords() {
		ran := finalizerRan(o.ID)
		switch {
		case o.Finalizer == finKept && ran:
			bad = append(bad, fmt.Sprintf("%s %s (%s): finalizer ran", o.Label, o.Addr, o.Expect))
		case o.Finalizer == finPending && !ran:
			bad = append(bad, fmt.Sprintf("%s %s (%s): finalizer did not run", o.Label, o.Addr, o.Expect))
		}
	}
	for _, f := range verifyChecks {
		if err := f(); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("verify: %s", strings.Join(bad, "; "))
	}
	return nil
}

// verifyChecks are scenario checks that -verify runs after its collections.
var verifyChecks []func() error
