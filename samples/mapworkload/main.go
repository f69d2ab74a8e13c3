// Command mapworkload is a small service around a sync.Map of payloads that reproduces the
// leak patterns heapsift finds: ghost references, finalizer-pinned objects and
// closure-captured cycles. See samples/README.md for the scenarios, flags and manifest.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"heapsift.dev/go/heapsift"
	"heapsift.dev/samples/selfdump"
)

var scenarios = map[string]func(o opts) error{
	"seed":          func(opts) error { return setupSeed() },
	"ghost":         func(opts) error { return setupGhost() },
	"closure":       func(opts) error { return setupClosure() },
	"finalizer-pin": func(opts) error { return setupPins() },
	"tombstone":     func(opts) error { return setupTombstone() },
	"fixed":         func(opts) error { return setupFixed() },
	"maps":          func(opts) error { return setupMaps() },
	"soak":          func(o opts) error { return setupSoak(o.objects, o.churn, o.leak) },
	// "weak" and "cleanup": weak.go (Go 1.24+)
}

// unavailable names the scenarios this Go cannot run, with the reason (weak_unavailable.go).
var unavailable = map[string]string{}

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1 // setup or I/O error, or a manifest that would not be true
	exitBadFlags    = 2
	exitVerify      = 3 // -verify found a claim the runtime contradicts
	exitUnavailable = 3 // the scenario needs a newer Go (weak, cleanup before Go 1.24)
)

func scenarioNames() string {
	var names []string
	for n := range scenarios {
		names = append(names, n)
	}
	for n := range unavailable {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, " | ")
}

type opts struct {
	scenario string
	hold     time.Duration
	selfdump string
	ready    string
	crash    string
	objects  int
	churn    int
	leak     int
	verify   bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func parseFlags(args []string, stderr io.Writer) (opts, error) {
	var o opts
	fs := flag.NewFlagSet("mapworkload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.scenario, "scenario", "seed", scenarioNames())
	fs.DurationVar(&o.hold, "hold", 0, "stay alive this long after setting up, serving the hook (0: until SIGTERM/SIGINT)")
	fs.StringVar(&o.selfdump, "selfdump", "", "write the heap dump to `PATH` (and the manifest to PATH.manifest.json) and exit")
	fs.StringVar(&o.ready, "ready", "", "write the pid to `FILE` once set up")
	fs.StringVar(&o.crash, "crash", "", "once set up, write the manifest to `FILE` and crash (panic; run with GOTRACEBACK=crash for a core file)")
	fs.IntVar(&o.objects, "objects", 100_000, "soak: approximate number of heap objects (at most 10,000,000)")
	fs.IntVar(&o.churn, "churn", 2000, "soak: map stores+deletes per second (0: static)")
	fs.IntVar(&o.leak, "leak", 10, "soak: churned values leaked into main.soakLeaks per second")
	fs.BoolVar(&o.verify, "verify", false, "before exiting, check the manifest's finalizer claims against the runtime")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, ok := scenarios[o.scenario]; !ok && unavailable[o.scenario] == "" {
		return o, fmt.Errorf("unknown scenario %q", o.scenario)
	}
	if o.objects < 1 || o.objects > 10_000_000 {
		return o, errors.New("-objects must be in 1..10000000")
	}
	if o.churn < 0 || o.leak < 0 {
		return o, errors.New("-churn and -leak must not be negative")
	}
	return o, nil
}

func run(args []string, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if err != flag.ErrHelp {
			fmt.Fprintln(stderr, "mapworkload:", err)
		}
		return exitBadFlags
	}
	if why := unavailable[o.scenario]; why != "" {
		fmt.Fprintf(stderr, "mapworkload: scenario %q is not available with %s: it %s\n", o.scenario, runtime.Version(), why)
		return exitUnavailable
	}
	scenarioName = o.scenario
	tombstones = map[string]int{}
	if err := scenarios[o.scenario](o); err != nil {
		fmt.Fprintf(stderr, "mapworkload: scenario %s: %v\n", o.scenario, err)
		return exitError
	}
	if exactCounts {
		err = settle()
	} else {
		runtime.GC() // soak: one collection is enough (its counts are not exact anyway)
		err = awaitFinalizers()
	}
	if err != nil {
		fmt.Fprintln(stderr, "mapworkload:", err)
		return exitError
	}
	// The import started the hook at init without a manifest; the callback is set only now,
	// so a capture has a manifest exactly when the scenario is fully set up.
	if os.Getenv("HEAPSIFT_HOOK") != "0" {
		if err := heapsift.Start(heapsift.Options{Manifest: manifestJSON}); err != nil {
			fmt.Fprintln(stderr, "mapworkload: hook:", err)
			return exitError
		}
		defer heapsift.Stop()
	}
	if o.ready != "" {
		if err := selfdump.WriteAtomic(o.ready, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
			fmt.Fprintln(stderr, "mapworkload:", err)
			return exitError
		}
	}
	if o.crash != "" {
		if err := selfdump.WriteAtomic(o.crash, manifestJSON()); err != nil {
			fmt.Fprintln(stderr, "mapworkload:", err)
			return exitError
		}
		runtime.GC()
		panic("mapworkload: crashing on purpose (-crash)")
	}
	if o.selfdump != "" {
		if err := selfDump(o.selfdump); err != nil {
			fmt.Fprintln(stderr, "mapworkload:", err)
			return exitError
		}
	} else if o.hold > 0 {
		time.Sleep(o.hold)
	} else {
		for { // until SIGTERM/SIGINT: the hook removes its socket and re-raises
			time.Sleep(time.Hour)
		}
	}
	if o.verify {
		if err := verify(); err != nil {
			fmt.Fprintln(stderr, "mapworkload:", err)
			return exitVerify
		}
	}
	return exitOK
}

// selfDump does what the hook does for a DUMP (GC, manifest, WriteHeapDump) into files
// (package selfdump). The soak's churn stays paused from the manifest until the dump is
// written.
func selfDump(path string) error {
	defer func() {
		if unlockChurn != nil {
			unlockChurn()
		}
	}()
	return selfdump.Write(path, func() (interface{}, error) { return buildManifest() })
}
