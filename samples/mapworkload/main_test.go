package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"heapsift.dev/samples/selfdump"
)

// The test binary is also the workload: with MAPWORKLOAD_RUN=1 it runs main's code. Being the
// same executable, it resolves the child's code addresses (finalizer functions, goroutine
// creators) with runtime.FuncForPC and finds the child's globals at its own globals'
// addresses (a non-PIE build: sameLayout).
func TestMain(m *testing.M) {
	if os.Getenv("MAPWORKLOAD_RUN") == "1" {
		os.Exit(run(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

func workload(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	// TMPDIR keeps the hook's socket inside the test's own directory.
	cmd.Env = append(os.Environ(), "MAPWORKLOAD_RUN=1", "TMPDIR="+t.TempDir())
	cmd.Stderr = os.Stderr
	return cmd
}

var validExpect = map[string]bool{expectNone: true, expectGhost: true, expectPinned: true, expectCycle: true}

// sameLayout says whether the child's static data sits where ours does (a non-PIE build):
// only then can we name the child's code addresses and find its globals with our symbols.
// main.svc points to a statically allocated struct: the same word at the same address.
func sameLayout(h *heapDump) bool {
	w, ok := h.segmentWord(uint64(uintptr(unsafe.Pointer(&svc))))
	return ok && w == uint64(uintptr(unsafe.Pointer(svc)))
}

// holderSlices are the globals ([]*T) whose elements are all listed objects held by them.
var holderSlices = map[string]unsafe.Pointer{
	"ghostSlice": unsafe.Pointer(&ghostSlice),
	"auditLog":   unsafe.Pointer(&auditLog),
	"sessionLog": unsafe.Pointer(&sessionLog),
	"mapGhosts":  unsafe.Pointer(&mapGhosts),
	"soakLeaks":  unsafe.Pointer(&soakLeaks),
}

func inMain(pc uint64) bool {
	f := runtime.FuncForPC(uintptr(pc))
	return f != nil && strings.HasPrefix(f.Name(), pkgSym+".")
}

func parseAddr(s string) (uint64, bool) {
	a, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	return a, err == nil && a != 0 && strings.HasPrefix(s, "0x")
}

// Types of the listed objects whose first word is their ID (after a malloc header).
var idTypes = map[string]bool{typePayload: true, typeHandle: true, typeSmall: true, "main.Resource": true}

// headerBytes is the malloc header before the object at a listed address: Go 1.22+ puts one
// before objects with pointers (all listed objects have pointers) above 512 bytes that are
// not large objects (up to 32 KiB - 8).
func headerBytes(m *Manifest, size uintptr) uint64 {
	if m.MallocHeaders && size > 512 && size <= 32768-8 {
		return 8
	}
	return 0
}

// slotHeader is the malloc header at the start of a dump object (a slot) with pointers.
func slotHeader(m *Manifest, slot int) uint64 {
	if m.MallocHeaders && slot > 512 && slot <= 32768 {
		return 8
	}
	return 0
}

func wantLayouts(t *testing.T, m *Manifest) {
	t.Helper()
	minor := selfdump.GoMinor()
	sm, ml := syncMapLayout124, "swiss"
	switch {
	case minor <= 19:
		sm, ml = syncMapLayout119, "hmap"
	case minor <= 23:
		sm, ml = syncMapLayout120, "hmap"
	}
	// 1.24 and 1.25 could be built with GOEXPERIMENTs that keep the old layouts: checked
	// against the build's own constants only.
	if (minor < 24 || minor >= 26) && (m.SyncMapLayout != sm || m.MapLayout != ml) {
		t.Errorf("layouts %q, %q for %s: want %q, %q", m.SyncMapLayout, m.MapLayout, m.GoVersion, sm, ml)
	}
	if (minor <= 21 && m.MallocHeaders) || (minor >= 23 && !m.MallocHeaders) {
		t.Errorf("malloc_headers %v for %s", m.MallocHeaders, m.GoVersion)
	}
	if m.SyncMapLayout != syncMapLayoutName() || m.MapLayout != mapLayout || m.MallocHeaders != mallocHeaders {
		t.Errorf("layouts %q %q %v, the build says %q %q %v", m.SyncMapLayout, m.MapLayout, m.MallocHeaders,
			syncMapLayoutName(), mapLayout, mallocHeaders)
	}
	if m.TombstonesApplicable != (m.SyncMapLayout != syncMapLayout124) || m.TombstonesReason == "" {
		t.Errorf("tombstones_applicable %v (%q) with sync.Map layout %q", m.TombstonesApplicable, m.TombstonesReason, m.SyncMapLayout)
	}
}

// checkManifest checks the manifest's own rules and then every claim against the dump:
// each object is the object at its address (its ID word, or its closure's function), its
// liveness is what reachability in the dump says, in-map objects are reachable from their
// container and ghosts are not, containers are where and in the shape the manifest says,
// the holder globals hold only listed objects, and the counts match.
func checkManifest(t *testing.T, scenario string, raw, dumpData []byte) (*Manifest, *heapDump) {
	t.Helper()
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.Schema != ManifestSchema || m.Scenario != scenario || m.GoVersion != runtime.Version() ||
		m.Pid <= 0 || m.Goarch != runtime.GOARCH {
		t.Errorf("manifest header: %+v", m)
	}
	wantLayouts(t, &m)
	h, err := readDump(dumpData)
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	if h.goVersion != m.GoVersion {
		t.Errorf("dump written by %q, manifest says %q", h.goVersion, m.GoVersion)
	}
	if len(m.Objects) == 0 {
		t.Fatal("manifest lists no objects")
	}
	same := sameLayout(h)
	reach := h.reachable()
	finOn := map[uint64]bool{}
	for _, f := range h.finalizers {
		if !f.queued {
			finOn[f.obj] = true
		}
	}
	byAddr := map[uint64]*Object{}
	closuresOfGroup := map[int]map[uint64]bool{}
	for i := range m.Objects {
		o := &m.Objects[i]
		if a, ok := parseAddr(o.Addr); ok && strings.HasPrefix(o.Type, typeClosure+" ") {
			if closuresOfGroup[o.Group] == nil {
				closuresOfGroup[o.Group] = map[uint64]bool{}
			}
			closuresOfGroup[o.Group][a] = true
		}
	}
	for i := range m.Objects {
		o := &m.Objects[i]
		a, ok := parseAddr(o.Addr)
		if !ok {
			t.Errorf("%s: bad address %q", o.Label, o.Addr)
			continue
		}
		if byAddr[a] != nil {
			t.Errorf("%s: address %s listed twice", o.Label, o.Addr)
		}
		byAddr[a] = o
		if !validExpect[o.Expect] || o.Label == "" || o.Holder == "" || o.Size == 0 || o.Type == "" {
			t.Errorf("object %+v: missing or invalid field", *o)
		}
		if (o.Role == rolePlanted) != (o.Expect != expectNone) || (o.Role != rolePlanted && o.Role != roleControl) {
			t.Errorf("object %+v: role and expect disagree", *o)
		}
		if o.Key != nil && o.Container == "" && o.WeakRef == "" {
			t.Errorf("%s %s: a key but no container", o.Label, o.Addr)
		}
		hdr := headerBytes(&m, o.Size)
		di, ok := h.index[a-hdr]
		if !ok {
			t.Errorf("%s %s: no object in the dump at %#x", o.Label, o.Addr, a-hdr)
			continue
		}
		d := &h.objects[di]
		if uint64(len(d.data)) < uint64(o.Size)+hdr {
			t.Errorf("%s %s: dump object is %d bytes, manifest says %d (+%d header)", o.Label, o.Addr, len(d.data), o.Size, hdr)
			continue
		}
		// Identity: the object at the address is this one, not another in a reused slot.
		switch {
		case idTypes[o.Type]:
			if o.ID == 0 {
				t.Errorf("%s %s: %s without an ID", o.Label, o.Addr, o.Type)
			} else if id := word(d.data, hdr); id != uint64(o.ID) {
				t.Errorf("%s %s: the dump's %s there has ID %d, manifest says %d", o.Label, o.Addr, o.Type, id, o.ID)
			}
		case strings.HasPrefix(o.Type, typeClosure+" "):
			if same {
				f := runtime.FuncForPC(uintptr(word(d.data, 0)))
				if f == nil || typeClosure+" "+f.Name() != o.Type {
					t.Errorf("%s %s: the dump's funcval there runs %v, manifest says %q", o.Label, o.Addr, f, o.Type)
				}
			}
		case o.Type == typeFuncArray:
			for off := uint64(0); off < uint64(o.Size); off += 8 {
				if !closuresOfGroup[o.Group][word(d.data, off)] {
					t.Errorf("%s %s: element %d (%#x) is not a listed closure of group %d", o.Label, o.Addr, off/8, word(d.data, off), o.Group)
				}
			}
		default:
			t.Errorf("%s %s: type %q has no identity check", o.Label, o.Addr, o.Type)
		}
		if got := reach[di]; got != (o.Liveness == liveInUse) {
			t.Errorf("%s %s: liveness %q, but reachable in the dump = %v", o.Label, o.Addr, o.Liveness, got)
		}
		if o.Finalizer != "" && !finOn[a] {
			t.Errorf("%s %s: no finalizer record for it", o.Label, o.Addr)
		}
	}
	checkContainers(t, &m, h)
	if !same {
		t.Logf("workload is position-independent: code addresses and globals not checked")
		return &m, h
	}
	for name, p := range holderSlices {
		checkHolderSlice(t, &m, h, name, p, byAddr)
	}
	var fins, queued, gs int64
	for _, f := range h.finalizers {
		if inMain(f.pc) {
			if f.queued {
				queued++
			} else {
				fins++
			}
		}
	}
	for _, g := range h.goroutines {
		if inMain(g.gopc) {
			gs++
		}
	}
	if queued != 0 {
		t.Errorf("%d workload finalizers still queued at dump time", queued)
	}
	if m.Counts.Exact {
		if fins != m.Counts.FinalizersRegistered {
			t.Errorf("dump has %d workload finalizers, manifest counts %d", fins, m.Counts.FinalizersRegistered)
		}
		if gs != m.Counts.Goroutines {
			t.Errorf("dump has %d workload goroutines, manifest counts %d", gs, m.Counts.Goroutines)
		}
	}
	return &m, h
}

// checkContainers checks each container's place, holder and shape in the dump, and that its
// in-map objects are reachable from it and its ghosts are not.
func checkContainers(t *testing.T, m *Manifest, h *heapDump) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range m.Containers {
		if seen[c.Name] || c.Name == "" {
			t.Errorf("container name %q empty or repeated", c.Name)
		}
		seen[c.Name] = true
		a, ok := parseAddr(c.Addr)
		if !ok {
			t.Errorf("container %s: bad address %q", c.Name, c.Addr)
			continue
		}
		if c.HolderAddr != "" {
			ha, _ := parseAddr(c.HolderAddr)
			if c.FieldOffset == nil || ha+uint64(*c.FieldOffset) != a || c.Holder == "" || c.Field == "" ||
				c.Name != c.Holder+"."+c.Field {
				t.Errorf("container %s: holder %q at %s, field %q at %v, addr %s", c.Name, c.Holder, c.HolderAddr, c.Field, c.FieldOffset, c.Addr)
			}
			if c.Heap {
				i := h.find(a)
				if i < 0 || h.inSegments(a) {
					t.Errorf("container %s at %s is not in a heap object", c.Name, c.Addr)
				} else if o := &h.objects[i]; o.addr+slotHeader(m, len(o.data)) != ha {
					t.Errorf("container %s: holder %s, its dump object starts at %#x", c.Name, c.HolderAddr, o.addr)
				}
			} else if !h.inSegments(ha) {
				t.Errorf("container %s: holder %s not in data or bss", c.Name, c.HolderAddr)
			}
		}
		if !c.Heap && !h.inSegments(a) {
			t.Errorf("container %s at %s is not in data or bss", c.Name, c.Addr)
		}
		size := uint64(unsafe.Sizeof(sync.Map{}))
		switch c.Kind {
		case "sync.Map":
			if c.MidGrowth != nil || c.MapAddr != "" {
				t.Errorf("container %s: map fields on a sync.Map", c.Name)
			}
		case "map":
			size = 8
			checkMapHeader(t, m, h, c, a)
		default:
			t.Errorf("container %s: kind %q", c.Name, c.Kind)
		}
		from, err := h.reachableFrom(a, size)
		if err != nil {
			t.Errorf("container %s: %v", c.Name, err)
			continue
		}
		for _, o := range m.Objects {
			if o.Container != c.Name {
				continue
			}
			oa, _ := parseAddr(o.Addr)
			i := h.find(oa)
			if i < 0 {
				continue // reported above
			}
			if o.Expect == expectGhost && from[i] {
				t.Errorf("ghost %s %s is still reachable from its container %s", o.Label, o.Addr, c.Name)
			}
			if o.Expect != expectGhost && !from[i] {
				t.Errorf("%s %s is not reachable from its container %s", o.Label, o.Addr, c.Name)
			}
		}
	}
}

// checkMapHeader reads the map header the variable at a points to and checks the manifest's
// shape claims (hmap: count@0, B@9, oldbuckets@24; Swiss: used@0, dirLen@24).
func checkMapHeader(t *testing.T, m *Manifest, h *heapDump, c Container, a uint64) {
	t.Helper()
	hp, ok := h.segmentWord(a)
	if !ok {
		t.Errorf("map %s: variable %s not in data or bss", c.Name, c.Addr)
		return
	}
	if c.MapAddr != fmt.Sprintf("%#x", hp) {
		t.Errorf("map %s: the variable points to %#x, manifest says map_addr %s", c.Name, hp, c.MapAddr)
	}
	i := h.index[hp]
	if hp == 0 || h.objects[i].addr != hp {
		t.Errorf("map %s: no map header object at %#x", c.Name, hp)
		return
	}
	d := h.objects[i].data
	if c.Entries == nil || word(d, 0) != uint64(*c.Entries) || c.MidGrowth == nil || c.ValueType == "" {
		t.Errorf("map %s: header count %d, manifest %v entries (mid_growth %v, value_type %q)", c.Name, word(d, 0), c.Entries, c.MidGrowth, c.ValueType)
		return
	}
	switch m.MapLayout {
	case "hmap":
		if c.HmapB == nil || int(d[9]) != *c.HmapB || (word(d, 24) != 0) != *c.MidGrowth || c.SwissShape != "" {
			t.Errorf("map %s: hmap B=%d oldbuckets=%#x, manifest B=%v mid_growth=%v", c.Name, d[9], word(d, 24), c.HmapB, *c.MidGrowth)
		}
	case "swiss":
		dirLen := word(d, 24)
		switch {
		case *c.MidGrowth || c.HmapB != nil:
			t.Errorf("map %s: hmap fields on a Swiss map", c.Name)
		case c.SwissShape == "small" && dirLen != 0, c.SwissShape == "small" && *c.Entries > 8:
			t.Errorf("map %s: small, with dirLen %d and %d entries", c.Name, dirLen, *c.Entries)
		case c.SwissShape == "directory" && (c.SwissDirLen == nil || dirLen != uint64(*c.SwissDirLen) || c.SwissTables == nil || *c.SwissTables < 1):
			t.Errorf("map %s: directory of %d, manifest %v (%v tables)", c.Name, dirLen, c.SwissDirLen, c.SwissTables)
		case c.SwissShape != "small" && c.SwissShape != "directory":
			t.Errorf("map %s: swiss_shape %q", c.Name, c.SwissShape)
		}
	}
}

// checkHolderSlice checks that every element of the global []*T at p (the child's global at
// the same address as ours) is a listed object held by that global.
func checkHolderSlice(t *testing.T, m *Manifest, h *heapDump, name string, p unsafe.Pointer, byAddr map[uint64]*Object) {
	t.Helper()
	a := uint64(uintptr(p))
	arr, ok1 := h.segmentWord(a)
	n, ok2 := h.segmentWord(a + 8)
	if !ok1 || !ok2 {
		t.Errorf("global %s at %#x not in data or bss", name, a)
		return
	}
	if n == 0 {
		return
	}
	i := h.find(arr)
	if i < 0 || arr+8*n > h.objects[i].addr+uint64(len(h.objects[i].data)) {
		t.Errorf("global %s: backing array %#x (%d elements) not in the dump", name, arr, n)
		return
	}
	o := &h.objects[i]
	for k := uint64(0); k < n; k++ {
		e := word(o.data, arr-o.addr+8*k)
		if e == 0 {
			continue
		}
		lo := byAddr[e]
		if lo == nil || lo.Holder != sym(name) {
			t.Errorf("%s[%d] = %#x is not listed as held by %s (%v)", name, k, e, sym(name), lo)
		}
	}
}

func labels(m *Manifest) map[string]int {
	out := map[string]int{}
	for _, o := range m.Objects {
		out[o.Label]++
	}
	return out
}

func container(m *Manifest, name string) *Container {
	for i := range m.Containers {
		if m.Containers[i].Name == name {
			return &m.Containers[i]
		}
	}
	return nil
}

type selfDumpCase struct {
	scenario string
	args     []string
	labels   []string // labels the scenario must plant
	needs124 bool
}

var selfDumpCases = map[string]selfDumpCase{
	"seed":          {"seed", nil, []string{"control/in-map-finalizer"}, false},
	"ghost":         {"ghost", nil, []string{"ghost/global-slice", "ghost/via-next", "ghost/goroutine-local", "ghost/closure", "ghost/registry", "ghost/struct-field", "ghost/holder-field", "control/in-map-and-global", "control/in-map"}, false},
	"closure":       {"closure", nil, []string{"cycle/func-literal", "cycle/method-value", "cycle/handler-slice", "control/scalar-closure", "control/method-value-other"}, false},
	"finalizer-pin": {"finalizer-pin", nil, []string{"pin/own-closure", "pin/mutual", "control/in-use", "control/unreachable-finalizer", "control/self-pointer"}, false},
	"tombstone":     {"tombstone", nil, []string{"control/in-map"}, false},
	"fixed":         {"fixed", nil, []string{"fixed/in-map", "fixed/guarded-map"}, false},
	"maps":          {"maps", nil, []string{"ghost/map", "control/in-map", "control/in-map-value-struct"}, false},
	"weak":          {"weak", nil, []string{"weak/strong", "weak/weak-only"}, true},
	"cleanup":       {"cleanup", nil, []string{"cleanup/owner", "cleanup/arg", "cleanup/arg-chain"}, true},
	"soak":          {"soak", []string{"-objects", "400000", "-churn", "5000", "-leak", "50"}, []string{"cycle/func-literal", "ghost/goroutine-local", "pin/mutual", "control/self-pointer", "control/in-map"}, false},
	"soak-static":   {"soak", []string{"-objects", "400000", "-churn", "0", "-leak", "0"}, []string{"cycle/func-literal", "ghost/global-slice", "control/in-map"}, false},
	"soak-payload":  {"soak", []string{"-objects", "50000", "-churn", "3000", "-leak", "50"}, []string{"cycle/method-value", "ghost/registry", "control/in-map"}, false},
}

func TestScenariosSelfDump(t *testing.T) {
	for name, tc := range selfDumpCases {
		name, tc := name, tc
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "heap.dump")
			args := append([]string{"-scenario", tc.scenario, "-selfdump", path, "-verify"}, tc.args...)
			cmd := workload(t, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if tc.needs124 && selfdump.GoMinor() < 24 {
				ee, ok := err.(*exec.ExitError)
				if !ok || ee.ExitCode() != exitUnavailable || !strings.Contains(stderr.String(), "not available") {
					t.Errorf("%s on %s: %v (%q), want exit status %d and 'not available'", name, runtime.Version(), err, stderr.String(), exitUnavailable)
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("an unavailable scenario wrote %s", path)
				}
				return
			}
			if err != nil {
				t.Fatalf("workload: %v\n%s", err, stderr.String())
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path + ".manifest.json")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := checkManifest(t, tc.scenario, raw, data)
			got := labels(m)
			for _, l := range tc.labels {
				if got[l] == 0 {
					t.Errorf("no %q object", l)
				}
			}
			checkScenario(t, name, m)
		})
	}
}

func checkScenario(t *testing.T, name string, m *Manifest) {
	t.Helper()
	c := m.Counts
	if c.Exact != (m.Scenario != "soak") {
		t.Errorf("counts.exact = %v", c.Exact)
	}
	tomb := m.TombstonesApplicable
	if !tomb {
		for k, v := range c.Tombstones {
			if v != 0 {
				t.Errorf("tombstones not applicable, yet %s has %d", k, v)
			}
		}
		if len(m.TombstoneKeys) != 0 {
			t.Errorf("tombstones not applicable, yet %d tombstone keys", len(m.TombstoneKeys))
		}
	}
	entries := func(name string) int {
		if ct := container(m, name); ct != nil && ct.Entries != nil {
			return *ct.Entries
		}
		return -1
	}
	if c.Exact && entries(containerStore) >= 0 && int64(entries(containerStore)) != c.StoreLive {
		t.Errorf("main.store has %d entries, store_live %d", entries(containerStore), c.StoreLive)
	}
	switch name {
	case "seed":
		if c.StoreLive < 900 || c.StoreLive > 1000 || c.FinalizersRegistered != c.StoreLive ||
			c.FinalizersSet-c.FinalizersRun != c.FinalizersRegistered || c.Goroutines != 0 {
			t.Errorf("seed counts %+v", c)
		}
		if tomb && c.Tombstones[containerStore] != int(1000-c.StoreLive) {
			t.Errorf("seed: %d tombstones for %d deletes", c.Tombstones[containerStore], 1000-c.StoreLive)
		}
		if got := labels(m)["control/in-map-finalizer"]; int64(got) != c.StoreLive {
			t.Errorf("seed lists %d in-map values, store_live %d", got, c.StoreLive)
		}
	case "ghost":
		svc, hub := sym("svc")+".sessions", sym("hub")+".conns"
		if c.StoreLive != 56 || c.RegistryLive != 14 || c.Goroutines != 1 ||
			(tomb && (c.Tombstones[containerStore] != 8 || c.Tombstones[svc] != 2)) ||
			c.Tombstones[containerReg] != 0 || c.Tombstones[hub] != 0 || entries(svc) != 10 || entries(hub) != 8 {
			t.Errorf("ghost counts %+v, %s %d, %s %d", c, svc, entries(svc), hub, entries(hub))
		}
		if ct := container(m, svc); ct == nil || ct.Heap || !ct.Anonymous || ct.Holder != sym("svc") {
			t.Errorf("container %s: %+v", svc, ct)
		}
		if ct := container(m, hub); ct == nil || !ct.Heap || ct.Holder != sym("hub") {
			t.Errorf("container %s: %+v", hub, ct)
		}
		for _, o := range m.Objects {
			if o.Label == "ghost/closure" && o.Holder != "closure "+sym("armShutdown.func1") {
				t.Errorf("ghost/closure holder %q", o.Holder)
			}
			if o.Expect == expectGhost && (o.Container == "" || o.Key == nil) {
				t.Errorf("ghost %s names no container or key", o.Addr)
			}
		}
	case "closure":
		groups := map[int]int{}
		for _, o := range m.Objects {
			if o.Expect == expectCycle {
				groups[o.Group]++
			}
		}
		// 2 literal + 2 method-value cycles of 2 members, 2 handler cycles of 4.
		sizes := map[int]int{}
		for _, n := range groups {
			sizes[n]++
		}
		if sizes[2] != 4 || sizes[4] != 2 || len(groups) != 6 {
			t.Errorf("cycle groups by size %v", sizes)
		}
		if c.StoreLive != 8+2+2+2+2+2 || c.FinalizersRegistered != 0 {
			t.Errorf("closure counts %+v", c)
		}
	case "finalizer-pin":
		if c.FinalizersRegistered != 7 || c.FinalizersSet != 7 || c.FinalizersRun != 0 {
			t.Errorf("finalizer-pin counts %+v", c)
		}
		if l := liveness(m); l[liveFinPending] != 2 {
			t.Errorf("finalizer-pin liveness %v", l)
		}
	case "tombstone":
		if c.StoreLive != 500 || len(m.DeletedKeys) != 1500 || (tomb && (c.Tombstones[containerStore] != 1500 || len(m.TombstoneKeys) != 1500)) {
			t.Errorf("tombstone counts %+v, %d deleted keys, %d tombstone keys", c, len(m.DeletedKeys), len(m.TombstoneKeys))
		}
	case "fixed":
		for _, o := range m.Objects {
			if o.Expect != expectNone {
				t.Errorf("fixed scenario expects %q for %s (%s)", o.Expect, o.Addr, o.Label)
			}
		}
		if c.StoreLive != 25 || c.GuardedLive != 25 || entries(containerGuard) != 25 || c.FinalizersRegistered != 25 ||
			c.FinalizersRun != 15 || c.Tombstones[containerStore] != 0 || c.Goroutines != 0 {
			t.Errorf("fixed counts %+v", c)
		}
	case "maps":
		small, large, value := container(m, sym("smallMap")), container(m, sym("largeMap")), container(m, sym("valueMap"))
		if small == nil || large == nil || value == nil {
			t.Fatalf("maps containers %+v", m.Containers)
		}
		if *small.Entries != smallMapN-smallMapGhosts || *large.Entries <= 1024 || *value.Entries != valueMapN-valueMapGhosts {
			t.Errorf("map entries %d, %d, %d", *small.Entries, *large.Entries, *value.Entries)
		}
		if m.MapLayout == "hmap" && (!*large.MidGrowth || *small.MidGrowth || *value.MidGrowth) {
			t.Errorf("hmap: mid_growth small %v large %v value %v", *small.MidGrowth, *large.MidGrowth, *value.MidGrowth)
		}
		if m.MapLayout == "swiss" && (small.SwissShape != "small" || large.SwissShape != "directory" || *large.SwissTables < 2) {
			t.Errorf("swiss: small %q, large %q with %v tables", small.SwissShape, large.SwissShape, large.SwissTables)
		}
		per := map[string]int{}
		for _, o := range m.Objects {
			if o.Expect == expectGhost {
				per[o.Container]++
			} else if o.Container != "" && o.Key == nil {
				t.Errorf("%s %s in %s without a key", o.Label, o.Addr, o.Container)
			}
		}
		if per[small.Name] != smallMapGhosts || per[large.Name] != largeMapGhosts || per[value.Name] != valueMapGhosts {
			t.Errorf("ghosts per map %v", per)
		}
		if value.ValueType != "main.slotVal" || small.ValueType != "*main.Payload" {
			t.Errorf("value types %q %q", value.ValueType, small.ValueType)
		}
	case "weak":
		l := liveness(m)
		if l[liveGarbage] != 4 || l[liveInUse] < 12 {
			t.Errorf("weak: liveness %v", l)
		}
		for _, o := range m.Objects {
			if o.WeakRef != sym("weakCache") || o.Key == nil || o.Expect != expectNone || o.Container != "" {
				t.Errorf("weak: object %+v", o)
			}
		}
	case "cleanup":
		l := liveness(m)
		if l[liveCleanupOnly] != cleanupOwnersN+1 || l[liveInUse] != cleanupOwnersN || c.CleanupsAdded != cleanupOwnersN || c.CleanupsRun != 0 {
			t.Errorf("cleanup: liveness %v, counts %+v", l, c)
		}
	case "soak", "soak-static", "soak-payload":
		static := name == "soak-static"
		if c.Tombstones != nil || (c.Goroutines != 2 && !static) || (c.Goroutines != 1 && static) || c.StoreLive < 10_000 {
			t.Errorf("soak counts %+v", c)
		}
		wantType := typeSmall
		if name == "soak-payload" {
			wantType = typePayload
		}
		n := 0
		for _, o := range m.Objects {
			if o.Label == "control/in-map" && o.Container == containerStore {
				n++
				if o.Type != wantType {
					t.Errorf("soak in-map control of type %s, want %s", o.Type, wantType)
					break
				}
			}
		}
		if n != soakControls {
			t.Errorf("soak lists %d in-map controls of main.store, want %d", n, soakControls)
		}
	}
}

func liveness(m *Manifest) map[string]int {
	out := map[string]int{}
	for _, o := range m.Objects {
		out[o.Liveness]++
	}
	return out
}

// hookDump captures the running workload through its hook, as heapsift-dump would.
func hookDump(t *testing.T, sock string) (map[string]interface{}, []byte, []byte) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	drained := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		drained <- b
	}()
	_, _, err = c.WriteMsgUnix([]byte("DUMP\n"), syscall.UnixRights(int(w.Fd())), nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	data := <-drained
	i := bytes.IndexByte(all, '\n')
	var reply map[string]interface{}
	if i < 0 || json.Unmarshal(all[:i], &reply) != nil {
		t.Fatalf("reply %q", all)
	}
	if reply["ok"] != true || int(reply["manifest_len"].(float64)) != len(all)-i-1 {
		t.Fatalf("reply %v with %d manifest bytes", reply, len(all)-i-1)
	}
	return reply, all[i+1:], data
}

// startHeld starts the workload with -hold and -ready and returns it with its socket path.
func startHeld(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := workload(t, append(args, "-hold", "120s", "-ready", ready)...)
	tmp := cmd.Env[len(cmd.Env)-1][len("TMPDIR="):]
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var pid []byte
	for i := 0; i < 6000 && len(pid) == 0; i++ {
		pid, _ = os.ReadFile(ready)
		time.Sleep(10 * time.Millisecond)
	}
	if strings.TrimSpace(string(pid)) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("ready file %q, pid %d", pid, cmd.Process.Pid)
	}
	return cmd, filepath.Join(tmp, "heapsift-"+strconv.Itoa(os.Getuid()), strconv.Itoa(cmd.Process.Pid)+".sock")
}

func TestHookCapture(t *testing.T) {
	cmd, sock := startHeld(t, "-scenario", "finalizer-pin")
	reply, raw, data := hookDump(t, sock)
	m1, _ := checkManifest(t, "finalizer-pin", raw, data)
	reply2, raw, data := hookDump(t, sock)
	m2, _ := checkManifest(t, "finalizer-pin", raw, data)
	if reply2["dump_seq"].(float64) != reply["dump_seq"].(float64)+1 {
		t.Errorf("dump_seq %v then %v", reply["dump_seq"], reply2["dump_seq"])
	}
	// The first capture's pending controls were finalized by the second capture's GC and
	// replaced by new ones; the pinned objects stayed.
	c1, c2 := m1.Counts, m2.Counts
	if c2.FinalizersRun != c1.FinalizersRun+2 || c2.FinalizersRegistered != c1.FinalizersRegistered {
		t.Errorf("counts across captures: %+v then %+v", c1, c2)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
		t.Errorf("workload exit after SIGTERM: %v", err)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

// TestHookCaptureSoak captures the churning soak twice through the hook: each manifest must
// list every value main.soakLeaks holds in its dump (the churn creates no ghost between a
// manifest and its dump), and the leaks grow between the captures.
func TestHookCaptureSoak(t *testing.T) {
	_, sock := startHeld(t, "-scenario", "soak", "-objects", "50000", "-churn", "3000", "-leak", "50")
	time.Sleep(700 * time.Millisecond)
	_, raw, data := hookDump(t, sock)
	m1, _ := checkManifest(t, "soak", raw, data)
	time.Sleep(700 * time.Millisecond)
	_, raw, data = hookDump(t, sock)
	m2, _ := checkManifest(t, "soak", raw, data)
	n1, n2 := labels(m1)["ghost/soak-leak"], labels(m2)["ghost/soak-leak"]
	if n1 == 0 || n2 <= n1 {
		t.Errorf("soak leaks %d then %d: want some, growing", n1, n2)
	}
	checkScenario(t, "soak-payload", m2)
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-scenario", "nope"}, {"-objects", "0"}, {"extra"}} {
		cmd := workload(t, args...)
		cmd.Stderr = nil
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitBadFlags {
			t.Errorf("%v: %v, want exit status 2", args, err)
		}
	}
}

// TestKeySpaces: the key ranges are disjoint and refuse to overflow.
func TestKeySpaces(t *testing.T) {
	if !(keysBulkLo < keysPlantedLo && keysPlantedLo < keysChurnLo && keysChurnLo < keysChurnHi && keysChurnHi <= 1<<31-1) {
		t.Fatal("key ranges out of order")
	}
	k := &keySpace{name: "t", next: 10, hi: 12}
	if k.take(2) != 10 {
		t.Error("take")
	}
	defer func() {
		if recover() == nil {
			t.Error("an exhausted key space did not panic")
		}
	}()
	k.take(1)
}
