// Command service is a small HTTP service on loopback, built on widely used modules
// (github.com/gorilla/mux, github.com/patrickmn/go-cache, github.com/hashicorp/golang-lru/v2),
// that leaks memory the way real services do: ghosts in a library cache and in a sync.Map, a
// finalizer closure capturing its object, a finalizer on a two-object cycle, and a method
// value cycle in a global listener list. It drives itself with bounded loopback HTTP load, so
// every leak arises from request handling, and describes what it planted in a manifest.
// With -fixed each bug is fixed the way an engineer would fix it. See README.md.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"time"

	"heapsift.dev/go/heapsift"
	"heapsift.dev/samples/selfdump"
)

// Exit statuses.
const (
	exitOK       = 0
	exitError    = 1 // setup, load or I/O error, or a manifest that would not be true
	exitBadFlags = 2
)

type opts struct {
	fixed    bool
	selfdump string
	ready    string
	hold     time.Duration
	load     time.Duration
	inflight int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func parseFlags(args []string, stderr io.Writer) (opts, error) {
	var o opts
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.fixed, "fixed", false, "run with every leak fixed")
	fs.StringVar(&o.selfdump, "selfdump", "", "write the heap dump to `PATH` (and the manifest to PATH.manifest.json) and exit")
	fs.StringVar(&o.ready, "ready", "", "write the pid to `FILE` once set up (and the background load runs)")
	fs.DurationVar(&o.hold, "hold", 0, "stay alive this long after setting up, serving the hook (0: until SIGTERM/SIGINT)")
	fs.DurationVar(&o.load, "load", time.Minute, "keep background loopback load running this long after setting up (at most 10m; 0: none)")
	fs.IntVar(&o.inflight, "inflight", 6, "requests waiting in a handler during -selfdump, or during the -load (0..64)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.load < 0 || o.load > 10*time.Minute {
		return o, errors.New("-load must be in 0..10m")
	}
	if o.inflight < 0 || o.inflight > 64 {
		return o, errors.New("-inflight must be in 0..64")
	}
	return o, nil
}

func run(args []string, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if err != flag.ErrHelp {
			fmt.Fprintln(stderr, "service:", err)
		}
		return exitBadFlags
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "service:", err)
		return exitError
	}
	srv = newServer(o.fixed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	go srv.http.Serve(ln) //nolint:errcheck // ends with the process
	cl := newClient("http://" + ln.Addr().String())
	if err := plant(cl); err != nil {
		return fail(fmt.Errorf("load: %v", err))
	}
	if err := settle(); err != nil {
		return fail(err)
	}
	// The hook listens from init; its manifest callback is set only now, so a capture has a
	// manifest exactly when the leaks are planted and settled.
	if os.Getenv("HEAPSIFT_HOOK") != "0" {
		if err := heapsift.Start(heapsift.Options{Manifest: manifestJSON}); err != nil {
			return fail(fmt.Errorf("hook: %v", err))
		}
		defer heapsift.Stop()
	}
	if o.selfdump != "" {
		release, err := cl.blockInFlight(o.inflight)
		if err != nil {
			return fail(err)
		}
		err = selfDump(o.selfdump)
		release()
		if err != nil {
			return fail(err)
		}
		return exitOK
	}
	if o.load > 0 {
		if err := cl.background(o.load, o.inflight); err != nil {
			return fail(err)
		}
	}
	if o.ready != "" {
		if err := selfdump.WriteAtomic(o.ready, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
			return fail(err)
		}
	}
	if o.hold > 0 {
		time.Sleep(o.hold)
		return exitOK
	}
	for { // until SIGTERM/SIGINT: the hook removes its socket and re-raises
		time.Sleep(time.Hour)
	}
}

// selfDump does what the hook does for a DUMP (GC, manifest, WriteHeapDump) into files
// (package selfdump).
func selfDump(path string) error {
	return selfdump.Write(path, func() (interface{}, error) { return buildManifest("selfdump") })
}

// manifestJSON is the hook's manifest callback (after the hook's GC). It panics on a
// manifest that fails its checks, so the hook refuses the capture.
func manifestJSON() []byte {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	m, err := buildManifest("hook")
	if err != nil {
		panic(err.Error())
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic("manifest: " + err.Error())
	}
	return b
}
