package heapsift

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
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const magic = "go1.7 heap dump\n"

// The test binary doubles as a helper process (drainer of a pipe, or a program that serves
// the hook) when HEAPSIFT_TEST_HELPER is set.
func TestMain(m *testing.M) {
	switch os.Getenv("HEAPSIFT_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "drain": // copy stdin (the pipe's read end) into HEAPSIFT_TEST_OUT
		f, err := os.Create(os.Getenv("HEAPSIFT_TEST_OUT"))
		if err == nil {
			_, err = io.Copy(f, os.Stdin)
		}
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "status": // print the socket path of the init-time start, then stop
		fmt.Println(SocketPath())
		if err := Stop(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case "serve", "serve-nosig": // listen in HEAPSIFT_TEST_DIR, write the path to HEAPSIFT_TEST_OUT, wait
		opts := Options{Dir: os.Getenv("HEAPSIFT_TEST_DIR"), NoSignals: os.Getenv("HEAPSIFT_TEST_HELPER") == "serve-nosig"}
		if err := Start(opts); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out := os.Getenv("HEAPSIFT_TEST_OUT")
		if err := os.WriteFile(out+".tmp", []byte(SocketPath()), 0o600); err != nil {
			os.Exit(1)
		}
		if err := os.Rename(out+".tmp", out); err != nil {
			os.Exit(1)
		}
		time.Sleep(time.Minute)
		os.Exit(3) // the test should have killed us
	}
	os.Exit(2)
}

func helperCmd(mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HEAPSIFT_TEST_HELPER="+mode)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// startHook moves the in-process hook into a fresh private directory for one test.
func startHook(t *testing.T, opts Options) string {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "hs")
	}
	if err := Start(opts); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = Stop() })
	p := SocketPath()
	if want := filepath.Join(opts.Dir, strconv.Itoa(os.Getpid())+".sock"); p != want {
		t.Fatalf("SocketPath = %q, want %q", p, want)
	}
	return p
}

// request sends one request line (with fd attached via SCM_RIGHTS when not nil, closing our
// copy right after sendmsg as the protocol says) and returns the reply line and what follows.
func request(t *testing.T, path, line string, fd *os.File) (map[string]interface{}, []byte) {
	t.Helper()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if fd != nil {
		_, _, err = c.WriteMsgUnix([]byte(line), syscall.UnixRights(int(fd.Fd())), nil)
		fd.Close()
	} else {
		_, err = c.Write([]byte(line))
	}
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	i := bytes.IndexByte(all, '\n')
	if i < 0 {
		t.Fatalf("reply has no line: %q", all)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(all[:i], &m); err != nil {
		t.Fatalf("reply %q: %v", all[:i], err)
	}
	return m, all[i+1:]
}

// dumpViaPipe sends DUMP with the write end of a pipe that a child process drains into a
// file (the drain must be another process: WriteHeapDump stops every goroutine of ours).
func dumpViaPipe(t *testing.T, path, line string) (map[string]interface{}, []byte, []byte) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dump")
	cmd := helperCmd("drain", "HEAPSIFT_HOOK=0", "HEAPSIFT_TEST_OUT="+out)
	cmd.Stdin = r
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	reply, rest := request(t, path, line, w)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("drainer: %v", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return reply, rest, data
}

func num(t *testing.T, m map[string]interface{}, k string) float64 {
	t.Helper()
	v, ok := m[k].(float64)
	if !ok {
		t.Fatalf("reply %v: %q is not a number", m, k)
	}
	return v
}

func TestInfo(t *testing.T) {
	path := startHook(t, Options{})
	m, rest := request(t, path, "INFO\n", nil)
	if len(rest) != 0 {
		t.Errorf("INFO: %d bytes after the line", len(rest))
	}
	exe, _ := os.Executable()
	if num(t, m, "proto") != 1 || int(num(t, m, "pid")) != os.Getpid() ||
		int(num(t, m, "uid")) != os.Getuid() || m["go_version"] != runtime.Version() ||
		m["exe"] != exe || m["goarch"] != runtime.GOARCH || m["manifest"] != false {
		t.Errorf("INFO reply %v", m)
	}
	if ns := int64(num(t, m, "start_unix_ns")); ns <= 0 || ns > time.Now().UnixNano() {
		t.Errorf("start_unix_ns %d", ns)
	}
	startHook(t, Options{Dir: filepath.Dir(path), Manifest: func() []byte { return nil }})
	if m, _ = request(t, path, "INFO\n", nil); m["manifest"] != true {
		t.Errorf("manifest not reported: %v", m)
	}
}

func TestSocketAndDirModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hs")
	if err := os.Mkdir(dir, 0o755); err != nil { // too open: the hook must tighten it
		t.Fatal(err)
	}
	path := startHook(t, Options{Dir: dir})
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want socket 0600", fi.Mode())
	}
	di, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !di.IsDir() || di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want dir 0700", di.Mode())
	}
	if err := Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket still there after Stop: %v", err)
	}
	if SocketPath() != "" {
		t.Errorf("SocketPath after Stop = %q", SocketPath())
	}
}

func TestRefusesSymlinkDir(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	link := filepath.Join(base, "link")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Stop() })
	if err := Start(Options{Dir: link}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Start on a symlinked dir: err = %v", err)
	}
	if SocketPath() != "" {
		t.Errorf("listening after a refused Start: %q", SocketPath())
	}
	if ents, _ := os.ReadDir(real); len(ents) != 0 {
		t.Errorf("socket created through the symlink: %v", ents)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, strconv.Itoa(os.Getpid())+".sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // leaves a dead socket file behind, as a killed process would
	path := startHook(t, Options{Dir: dir})
	if m, _ := request(t, path, "INFO\n", nil); int(num(t, m, "pid")) != os.Getpid() {
		t.Errorf("INFO after replacing a stale socket: %v", m)
	}
}

func TestDumpPipe(t *testing.T) {
	manifest := []byte(`{"schema":"heapsift-manifest/1","objects":[]}`)
	var calls int32
	path := startHook(t, Options{Manifest: func() []byte { atomic.AddInt32(&calls, 1); return manifest }})
	reply, rest, data := dumpViaPipe(t, path, "DUMP\n")
	if reply["ok"] != true || num(t, reply, "pause_ns") <= 0 || num(t, reply, "gc_ns") <= 0 {
		t.Fatalf("DUMP reply %v", reply)
	}
	if int(num(t, reply, "manifest_len")) != len(manifest) || !bytes.Equal(rest, manifest) {
		t.Errorf("manifest_len %v, bytes %q; want %q", reply["manifest_len"], rest, manifest)
	}
	if calls := atomic.LoadInt32(&calls); calls != 1 {
		t.Errorf("manifest callback ran %d times", calls)
	}
	if !bytes.HasPrefix(data, []byte(magic)) || len(data) < 1024 || data[len(data)-1] != 0 {
		t.Errorf("dump: %d bytes, starts %q, last byte %v", len(data), data[:min(len(data), 16)], data[len(data)-1:])
	}
	seq := num(t, reply, "dump_seq")

	reply, rest, data = dumpViaPipe(t, path, "DUMP nogc\n")
	if reply["ok"] != true || num(t, reply, "gc_ns") != 0 || num(t, reply, "dump_seq") != seq+1 {
		t.Errorf("DUMP nogc reply %v (previous dump_seq %v)", reply, seq)
	}
	if !bytes.Equal(rest, manifest) || !bytes.HasPrefix(data, []byte(magic)) {
		t.Errorf("DUMP nogc: manifest %q, dump starts %q", rest, data[:min(len(data), 16)])
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func TestDumpRegularFile(t *testing.T) {
	path := startHook(t, Options{})
	f, err := os.Create(filepath.Join(t.TempDir(), "d"))
	if err != nil {
		t.Fatal(err)
	}
	name := f.Name()
	reply, rest := request(t, path, "DUMP\n", f)
	if reply["ok"] != true || num(t, reply, "manifest_len") != 0 || len(rest) != 0 {
		t.Errorf("reply %v, rest %q", reply, rest)
	}
	data, _ := os.ReadFile(name)
	if !bytes.HasPrefix(data, []byte(magic)) {
		t.Errorf("dump file starts %q", data[:min(len(data), 16)])
	}
}

func TestBusy(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	path := startHook(t, Options{Manifest: func() []byte {
		entered <- struct{}{}
		<-release
		return []byte("{}")
	}})
	type result struct {
		reply map[string]interface{}
		data  []byte
	}
	first := make(chan result, 1)
	go func() {
		reply, _, data := dumpViaPipe(t, path, "DUMP nogc\n")
		first <- result{reply, data}
	}()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("first DUMP never reached the manifest callback")
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	reply, rest := request(t, path, "DUMP\n", w2)
	if reply["ok"] != false || reply["error"] != BusyError || len(rest) != 0 {
		t.Errorf("second DUMP: %v %q", reply, rest)
	}
	// The refused fd was closed without a byte written: the pipe is at EOF already.
	_ = r2.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(r2)
	if err != nil || len(got) != 0 {
		t.Errorf("busy data fd: read %d bytes, err %v", len(got), err)
	}
	close(release)
	res := <-first
	if res.reply["ok"] != true || !bytes.HasPrefix(res.data, []byte(magic)) {
		t.Errorf("first DUMP: %v", res.reply)
	}
	// Not busy any more.
	startHook(t, Options{Dir: filepath.Dir(path)})
	f, _ := os.Create(filepath.Join(t.TempDir(), "d"))
	if reply, _ := request(t, path, "DUMP nogc\n", f); reply["ok"] != true {
		t.Errorf("DUMP after busy: %v", reply)
	}
}

func TestBadRequests(t *testing.T) {
	path := startHook(t, Options{})
	cases := []struct {
		line, want string
		fd         string // "", "r" (read end of a pipe) or "w"
	}{
		{"HELLO\n", "unknown request", ""},
		{"INFO extra\n", "unknown request", ""},
		{"DUMP\n", "DUMP needs exactly one file descriptor", ""},
		{"DUMP fast\n", "unknown DUMP option", "w"},
		{"DUMP\n", "not open for writing", "r"},
		{strings.Repeat("x", 5000), "too long", ""},
	}
	for _, c := range cases {
		var fd *os.File
		if c.fd != "" {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			if c.fd == "r" {
				fd = r
				defer w.Close()
			} else {
				fd = w
				defer r.Close()
			}
		}
		reply, _ := request(t, path, c.line, fd)
		if reply["ok"] != false || !strings.Contains(fmt.Sprint(reply["error"]), c.want) {
			t.Errorf("%.20q: reply %v, want error containing %q", c.line, reply, c.want)
		}
	}
	// A client that connects and closes without a request must not disturb the hook.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if m, _ := request(t, path, "INFO\n", nil); m["proto"] == nil {
		t.Errorf("INFO after an empty connection: %v", m)
	}
}

func TestManifestPanic(t *testing.T) {
	path := startHook(t, Options{Manifest: func() []byte { panic("boom") }})
	f, _ := os.Create(filepath.Join(t.TempDir(), "d"))
	name := f.Name()
	reply, _ := request(t, path, "DUMP nogc\n", f)
	if reply["ok"] != false || !strings.Contains(fmt.Sprint(reply["error"]), "boom") {
		t.Errorf("reply %v", reply)
	}
	if fi, _ := os.Stat(name); fi.Size() != 0 {
		t.Errorf("dump written despite the failed manifest: %d bytes", fi.Size())
	}
}

func TestPeerCred(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cred, err := peerCred(s)
	if err != nil {
		t.Fatal(err)
	}
	if int(cred.Uid) != os.Getuid() || int(cred.Pid) != os.Getpid() {
		t.Errorf("peer cred %+v, want uid %d pid %d", cred, os.Getuid(), os.Getpid())
	}
	if !peerAllowed(cred.Uid) || !peerAllowed(0) {
		t.Error("own uid or root refused")
	}
	if other := uint32(os.Getuid() + 1); other != 0 && peerAllowed(other) {
		t.Errorf("uid %d allowed", other)
	}
}

func TestInitStart(t *testing.T) {
	tmp := t.TempDir()
	cmd := helperCmd("status", "TMPDIR="+tmp)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(tmp, "heapsift-"+strconv.Itoa(os.Getuid()), strconv.Itoa(cmd.Process.Pid)+".sock")
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("init-time socket %q, want %q", got, want)
	}
	if _, err := os.Lstat(want); !os.IsNotExist(err) {
		t.Errorf("socket left after Stop: %v", err)
	}
	cmd = helperCmd("status", "TMPDIR="+tmp, "HEAPSIFT_HOOK=0")
	if out, err = cmd.Output(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("HEAPSIFT_HOOK=0: socket %q, err %v", out, err)
	}
}

func TestSignalsRemoveSocket(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		mode string
	}{{syscall.SIGTERM, "serve"}, {syscall.SIGINT, "serve"}, {syscall.SIGTERM, "serve-nosig"}} {
		sig := c.sig
		dir := filepath.Join(t.TempDir(), "hs")
		ready := filepath.Join(t.TempDir(), "ready")
		cmd := helperCmd(c.mode, "HEAPSIFT_HOOK=0", "HEAPSIFT_TEST_DIR="+dir, "HEAPSIFT_TEST_OUT="+ready)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var path []byte
		for i := 0; i < 1000; i++ {
			if b, err := os.ReadFile(ready); err == nil {
				path = b
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(path) == 0 {
			cmd.Process.Kill()
			t.Fatal("helper never became ready")
		}
		if _, err := os.Lstat(string(path)); err != nil {
			t.Fatalf("helper socket: %v", err)
		}
		_ = cmd.Process.Signal(sig)
		err := cmd.Wait()
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%v: helper exit %v, want death by signal", sig, err)
		}
		ws := ee.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != sig {
			t.Errorf("%v: wait status %v, want killed by %v", sig, ws, sig)
		}
		_, err = os.Lstat(string(path))
		if c.mode == "serve" && !os.IsNotExist(err) {
			t.Errorf("%v: socket still there: %v", sig, err)
		}
		if c.mode == "serve-nosig" && err != nil { // NoSignals: the signal is not ours to catch
			t.Errorf("%v with NoSignals: socket removed (%v)", sig, err)
		}
	}
}

// A client that dies mid-capture costs the target nothing: the runtime's writes fail with
// EPIPE (SIGPIPE on a non-stdio fd does not kill a Go program) and the hook keeps serving.
func TestDumpReaderGone(t *testing.T) {
	path := startHook(t, Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if reply, _ := request(t, path, "DUMP nogc\n", w); reply["ok"] != true {
		t.Errorf("DUMP into a broken pipe: %v", reply)
	}
	if m, _ := request(t, path, "INFO\n", nil); int(num(t, m, "pid")) != os.Getpid() {
		t.Errorf("INFO after a broken capture: %v", m)
	}
}
