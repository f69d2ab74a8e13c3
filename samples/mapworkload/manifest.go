package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ManifestSchema names the manifest format; samples/README.md documents it.
const ManifestSchema = "heapsift-manifest/1"

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
	Container string  `json:"container,omitempty"`
	Group     int     `json:"group,omitempty"`
	Finalizer string  `json:"finalizer,omitempty"`
}

// Container is a map the workload keeps values in.
type Container struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Addr      string `json:"addr"`
	Anonymous bool   `json:"anonymous,omitempty"`
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
	Tombstones           map[string]int `json:"tombstones"`
}

// Manifest is what the hook's callback and -selfdump write beside the dump.
type Manifest struct {
	Schema        string      `json:"schema"`
	Scenario      string      `json:"scenario"`
	GoVersion     string      `json:"go_version"`
	Goarch        string      `json:"goarch"`
	Pid           int         `json:"pid"`
	UnixNs        int64       `json:"unix_ns"`
	Containers    []Container `json:"containers"`
	Counts        Counts      `json:"counts"`
	Objects       []Object    `json:"objects"`
	TombstoneKeys []int       `json:"tombstone_keys,omitempty"`
}

var (
	recMu     sync.Mutex
	records   []*Object          // insertion order; nil slots are forgotten objects
	recIndex  = map[string]int{} // addr -> index in records
	nextGroup int

	scenarioName  string
	containers    = []Container{}
	tombstones    map[string]int // nil when not known exactly (soak)
	tombstoneKeys []int
	exactCounts   = true

	storeLive, registryLive, guardedLive int64 // atomics
	goroutines                           int64 // atomic: workload goroutines alive
	finalizersSet, finalizersRun         int64 // atomics

	finMu      sync.Mutex
	finLog     []time.Time // the seed scenario's finalizer log
	finRanByID = map[int]bool{}

	// Extra work run at manifest time, e.g. creating the pending finalizer controls.
	atManifest func()
)

var nextID int64

func newID() int { return int(atomic.AddInt64(&nextID, 1)) }

func addrOf(p unsafe.Pointer) string { return fmt.Sprintf("%p", p) }

// funcvalOf returns the funcval a func value points to (its closure object).
func funcvalOf[F any](fn F) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&fn))
}

// funcName returns the name of the function a func value runs, as the symbol table has it.
func funcName[F any](fn F) string {
	fv := funcvalOf(fn)
	if fv == nil {
		return ""
	}
	if f := runtime.FuncForPC(*(*uintptr)(fv)); f != nil {
		return f.Name()
	}
	return "?"
}

func newGroup() int {
	recMu.Lock()
	defer recMu.Unlock()
	nextGroup++
	return nextGroup
}

func record(o Object) {
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

// goMinor returns the minor version of the running Go (19 for go1.19.8), or -1.
func goMinor() int {
	v := runtime.Version()
	if i := strings.Index(v, "go1."); i >= 0 {
		v = v[i+4:]
		j := 0
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(v[:j]); err == nil {
			return n
		}
	}
	return -1
}

// syncMapTombstones says whether Delete leaves tombstones in sync.Map's read map: Go 1.9 to
// 1.23; from 1.24 sync.Map is a hash-trie and Delete removes the entry (GO-RUNTIME.md).
func syncMapTombstones() bool {
	m := goMinor()
	return m >= 9 && m <= 23
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

// drainFinalizers waits until queued finalizers have run: the run counter must stay
// unchanged for 5 polls in a row (at most 2 s).
func drainFinalizers() {
	last := atomic.LoadInt64(&finalizersRun)
	stable := 0
	for i := 0; i < 400 && stable < 5; i++ {
		time.Sleep(5 * time.Millisecond)
		n := atomic.LoadInt64(&finalizersRun)
		if n == last {
			stable++
		} else {
			stable, last = 0, n
		}
	}
}

// settle collects garbage twice and drains finalizers: after it, objects whose finalizer
// ran are freed and every count in the manifest is stable.
func settle() {
	runtime.GC()
	drainFinalizers()
	runtime.GC()
	drainFinalizers()
}

// buildManifest drains finalizers, runs the scenario's manifest-time work and returns the
// manifest. It is the hook's manifest callback (called after the hook's GC).
func buildManifest() *Manifest {
	drainFinalizers()
	if atManifest != nil {
		atManifest()
	}
	if lockChurn != nil {
		lockChurn()
		defer unlockChurn()
	}
	m := &Manifest{
		Schema:     ManifestSchema,
		Scenario:   scenarioName,
		GoVersion:  runtime.Version(),
		Goarch:     runtime.GOARCH,
		Pid:        os.Getpid(),
		UnixNs:     time.Now().UnixNano(),
		Containers: containers,
		Objects:    snapshotRecords(),
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
		Tombstones:           tombstones,
	}
	if len(tombstoneKeys) > 0 {
		m.TombstoneKeys = append([]int(nil), tombstoneKeys...)
		sort.Ints(m.TombstoneKeys)
	}
	return m
}

func manifestJSON() []byte {
	b, err := json.Marshal(buildManifest())
	if err != nil {
		return []byte(`{"schema":"` + ManifestSchema + `","error":` + strconv.Quote(err.Error()) + `}`)
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

// verify checks the manifest's finalizer claims against the runtime itself after two more
// collections: "kept" finalizers (pinned objects, objects in use) never ran, "pending" ones
// (unreachable controls) did.
func verify() error {
	settle()
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
	if len(bad) > 0 {
		return fmt.Errorf("verify: %s", strings.Join(bad, "; "))
	}
	return nil
}
