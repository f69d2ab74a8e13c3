package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The test binary is also the workload: with MAPWORKLOAD_RUN=1 it runs main's code. Being the
// same executable, it resolves the child's code addresses (finalizer functions, goroutine
// creators) with runtime.FuncForPC.
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
// only then can we name the child's code addresses with our symbol table.
func sameLayout(m *Manifest) bool {
	for _, c := range m.Containers {
		if c.Name == containerStore {
			return c.Addr == addrOf(unsafe.Pointer(&store))
		}
	}
	return false
}

func inMain(pc uint64) bool {
	f := runtime.FuncForPC(uintptr(pc))
	return f != nil && strings.HasPrefix(f.Name(), pkgSym+".")
}

// checkManifest checks the manifest's own rules and then every claim against the dump.
func checkManifest(t *testing.T, scenario string, raw, dumpData []byte) *Manifest {
	t.Helper()
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.Schema != ManifestSchema || m.Scenario != scenario || m.GoVersion != runtime.Version() ||
		m.Pid <= 0 || m.Goarch != runtime.GOARCH {
		t.Errorf("manifest header: %+v", m)
	}
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
	finOn := map[uint64]bool{}
	for _, f := range h.finalizers {
		if !f.queued {
			finOn[f.obj] = true
		}
	}
	seen := map[uint64]bool{}
	for _, o := range m.Objects {
		a, err := strconv.ParseUint(strings.TrimPrefix(o.Addr, "0x"), 16, 64)
		if err != nil || a == 0 || !strings.HasPrefix(o.Addr, "0x") {
			t.Errorf("%s: bad address %q", o.Label, o.Addr)
			continue
		}
		if seen[a] {
			t.Errorf("%s: address %s listed twice", o.Label, o.Addr)
		}
		seen[a] = true
		if !validExpect[o.Expect] || o.Label == "" || o.Holder == "" || o.Size == 0 || o.Type == "" {
			t.Errorf("object %+v: missing or invalid field", o)
		}
		if (o.Role == rolePlanted) != (o.Expect != expectNone) || (o.Role != rolePlanted && o.Role != roleControl) {
			t.Errorf("object %+v: role and expect disagree", o)
		}
		// Go 1.22+ puts an 8-byte header before objects in slots > 512 B; %p is past it.
		obj, ok := h.objects[a]
		if !ok && goMinor() >= 22 {
			obj, ok = h.objects[a-8]
			obj.size -= 8
		}
		if !ok {
			t.Errorf("%s %s: no object at that address in the dump", o.Label, o.Addr)
		} else if obj.size < uint64(o.Size) {
			t.Errorf("%s %s: dump object is %d bytes, manifest says %d", o.Label, o.Addr, obj.size, o.Size)
		}
		if o.Finalizer != "" && !finOn[a] {
			t.Errorf("%s %s: no finalizer record for it", o.Label, o.Addr)
		}
	}
	for _, c := range m.Containers {
		a, _ := strconv.ParseUint(strings.TrimPrefix(c.Addr, "0x"), 16, 64)
		if !(a >= h.data[0] && a < h.data[1]) && !(a >= h.bss[0] && a < h.bss[1]) {
			t.Errorf("container %s at %s is not in data or bss", c.Name, c.Addr)
		}
	}
	if !sameLayout(&m) {
		t.Logf("workload is position-independent: code addresses not checked")
		return &m
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
	return &m
}

func labels(m *Manifest) map[string]int {
	out := map[string]int{}
	for _, o := range m.Objects {
		out[o.Label]++
	}
	return out
}

func TestScenariosSelfDump(t *testing.T) {
	want := map[string][]string{ // labels each scenario must plant
		"seed":          {"control/in-map-finalizer"},
		"ghost":         {"ghost/global-slice", "ghost/via-next", "ghost/goroutine-local", "ghost/closure", "ghost/registry", "control/in-map-and-global"},
		"closure":       {"cycle/func-literal", "cycle/method-value", "cycle/handler-slice", "control/scalar-closure", "control/method-value-other"},
		"finalizer-pin": {"pin/own-closure", "pin/mutual", "control/in-use", "control/unreachable-finalizer", "control/self-pointer"},
		"tombstone":     {"control/in-map"},
		"fixed":         {"fixed/in-map", "fixed/guarded-map"},
		"soak":          {"cycle/func-literal", "ghost/goroutine-local", "pin/mutual", "control/self-pointer"},
	}
	for sc, labs := range want {
		sc, labs := sc, labs
		t.Run(sc, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "heap.dump")
			args := []string{"-scenario", sc, "-selfdump", path, "-verify"}
			if sc == "soak" {
				args = append(args, "-objects", "400000", "-churn", "5000", "-leak", "50")
			}
			if out, err := workload(t, args...).Output(); err != nil {
				t.Fatalf("workload: %v %s", err, out)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path + ".manifest.json")
			if err != nil {
				t.Fatal(err)
			}
			m := checkManifest(t, sc, raw, data)
			got := labels(m)
			for _, l := range labs {
				if got[l] == 0 {
					t.Errorf("no %q object", l)
				}
			}
			checkScenario(t, sc, m)
		})
	}
}

func checkScenario(t *testing.T, sc string, m *Manifest) {
	t.Helper()
	c := m.Counts
	if c.Exact != (sc != "soak") {
		t.Errorf("counts.exact = %v", c.Exact)
	}
	tomb := syncMapTombstones()
	switch sc {
	case "seed":
		if c.StoreLive < 900 || c.StoreLive >= 1000 || c.FinalizersRegistered != c.StoreLive ||
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
		if c.StoreLive != 56 || c.RegistryLive != 14 || c.Goroutines != 1 ||
			(tomb && c.Tombstones[containerStore] != 8) || c.Tombstones[containerReg] != 0 {
			t.Errorf("ghost counts %+v", c)
		}
		for _, o := range m.Objects {
			if o.Label == "ghost/closure" && o.Holder != "closure "+sym("armShutdown.func1") {
				t.Errorf("ghost/closure holder %q", o.Holder)
			}
			if o.Expect == expectGhost && o.Container == "" {
				t.Errorf("ghost %s names no container", o.Addr)
			}
		}
	case "closure":
		groups := map[int]int{}
		for _, o := range m.Objects {
			if o.Expect == expectCycle {
				groups[o.Group]++
			}
		}
		// 2 literal + 2 method-value cycles of 2 members, 1 handler cycle of 4.
		sizes := map[int]int{}
		for _, n := range groups {
			sizes[n]++
		}
		if sizes[2] != 4 || sizes[4] != 1 || len(groups) != 5 {
			t.Errorf("cycle groups by size %v", sizes)
		}
		if c.StoreLive != 8+2+2+1+2+2 || c.FinalizersRegistered != 0 {
			t.Errorf("closure counts %+v", c)
		}
	case "finalizer-pin":
		if c.FinalizersRegistered != 7 || c.FinalizersSet != 7 || c.FinalizersRun != 0 {
			t.Errorf("finalizer-pin counts %+v", c)
		}
	case "tombstone":
		if c.StoreLive != 500 || len(m.TombstoneKeys) != 1500 || (tomb && c.Tombstones[containerStore] != 1500) ||
			(!tomb && c.Tombstones[containerStore] != 0) {
			t.Errorf("tombstone counts %+v, %d keys", c, len(m.TombstoneKeys))
		}
	case "fixed":
		for _, o := range m.Objects {
			if o.Expect != expectNone {
				t.Errorf("fixed scenario expects %q for %s (%s)", o.Expect, o.Addr, o.Label)
			}
		}
		if c.StoreLive != 25 || c.GuardedLive != 25 || c.FinalizersRegistered != 25 ||
			c.FinalizersRun != 15 || c.Tombstones[containerStore] != 0 || c.Goroutines != 0 {
			t.Errorf("fixed counts %+v", c)
		}
	case "soak":
		if c.Tombstones != nil || c.Goroutines != 2 || c.StoreLive < 100_000 {
			t.Errorf("soak counts %+v", c)
		}
		for _, o := range m.Objects {
			if o.Label == "control/in-map" && o.Container == containerStore && o.Type != typeSmall {
				t.Errorf("soak with 400000 objects should store Small values, got %s", o.Type)
				break
			}
		}
	}
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

func TestHookCapture(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := workload(t, "-scenario", "finalizer-pin", "-hold", "60s", "-ready", ready)
	tmp := cmd.Env[len(cmd.Env)-1][len("TMPDIR="):]
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var pid []byte
	for i := 0; i < 1000 && len(pid) == 0; i++ {
		pid, _ = os.ReadFile(ready)
		time.Sleep(10 * time.Millisecond)
	}
	if strings.TrimSpace(string(pid)) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("ready file %q, pid %d", pid, cmd.Process.Pid)
	}
	sock := filepath.Join(tmp, "heapsift-"+strconv.Itoa(os.Getuid()), strconv.Itoa(cmd.Process.Pid)+".sock")

	reply, raw, data := hookDump(t, sock)
	m1 := checkManifest(t, "finalizer-pin", raw, data)
	reply2, raw, data := hookDump(t, sock)
	m2 := checkManifest(t, "finalizer-pin", raw, data)
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

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-scenario", "nope"}, {"-objects", "0"}, {"extra"}} {
		cmd := workload(t, args...)
		cmd.Stderr = nil
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2", args, err)
		}
	}
}
