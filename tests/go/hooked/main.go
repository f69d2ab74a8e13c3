// hooked is the heapsift-dump test target: a program that imports the hook, keeps a known
// number of distinctive objects alive, and can grow its heap on demand.
//
//	hooked [-distinct N] [-ballast MB] [-grow MB -grow-after D] [-exit-after D]
//	       [-exit-after-dumps N] [-ready FILE]
//
// It keeps -distinct objects that fill 27264-byte slots (a size class nothing else in this program
// uses) reachable from main.table, -ballast MB of pointer-free []byte blocks (to make dumps
// big), and after -grow-after it allocates -grow MB more and touches it (RSS rises). The
// manifest callback returns what it holds, so a test can compare it with `heapsift info`.
// With -ready it writes its pid to FILE (atomically) once set up and the hook listens.
package main

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"heapsift.dev/go/heapsift"
)

const distinctSize = 27264

// Distinct fills exactly one 27264-byte slot and holds a pointer: 8 bytes short of the slot,
// where Go 1.22+ puts its malloc header (older Go rounds it up to the same slot).
type Distinct struct {
	Next *Distinct
	Pad  [distinctSize - 16]byte
}

var (
	table    []*Distinct
	ballast  [][]byte
	grown    [][]byte
	growDone int32
)

// dumpsServed counts the manifests the hook asked for (one per capture); with
// -exit-after-dumps N the program exits once the Nth capture is over.
var (
	dumpsServed    int32
	exitAfterDumps int32
	exitNow        = make(chan struct{})
)

func manifest() []byte {
	if n := atomic.AddInt32(&dumpsServed, 1); n == exitAfterDumps {
		// The hook writes the dump right after this returns, with the world stopped: a timer
		// started now fires only once the dump is written; the grace lets the hook reply.
		time.AfterFunc(300*time.Millisecond, func() { close(exitNow) })
	}
	b, _ := json.Marshal(map[string]interface{}{
		"schema":         "heapsift-hooked/1",
		"go_version":     runtime.Version(),
		"pid":            os.Getpid(),
		"distinct_size":  distinctSize,
		"distinct_count": len(table),
		"ballast_blocks": len(ballast),
		"grown":          atomic.LoadInt32(&growDone) == 1,
	})
	return b
}

// secretBox holds the -secret bytes in the heap (its Key slice's backing array is a heap
// object too) so redaction tests can look for them in a capture.
type secretBox struct {
	Key  []byte
	Self *secretBox
}

var secret *secretBox

func main() {
	distinct := flag.Int("distinct", 50, "objects of 27264 bytes kept alive")
	ballastMB := flag.Int("ballast", 0, "MiB of pointer-free blocks kept alive")
	growMB := flag.Int("grow", 0, "MiB to allocate after -grow-after")
	growAfter := flag.Duration("grow-after", time.Second, "when to grow")
	exitAfter := flag.Duration("exit-after", 0, "exit after this long (0: run until killed)")
	exitDumps := flag.Int("exit-after-dumps", 0, "exit (status 0) once this many captures are over")
	ready := flag.String("ready", "", "write the pid to FILE once set up")
	secretHex := flag.String("secret", "", "hex bytes kept in a heap object during dumps (for redaction tests)")
	flag.Parse()
	exitAfterDumps = int32(*exitDumps)
	if *secretHex != "" {
		key, err := hex.DecodeString(*secretHex)
		if err != nil {
			fmt.Fprintln(os.Stderr, "hooked: -secret:", err)
			os.Exit(2)
		}
		secret = &secretBox{Key: key}
		secret.Self = secret
	}

	if err := heapsift.Start(heapsift.Options{Manifest: manifest}); err != nil {
		fmt.Fprintln(os.Stderr, "hooked:", err)
		os.Exit(1)
	}
	defer heapsift.Stop()
	for i := 0; i < *distinct; i++ {
		d := &Distinct{}
		if i > 0 {
			d.Next = table[i-1]
		}
		table = append(table, d)
	}
	for i := 0; i < *ballastMB; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = byte(i + j)
		}
		ballast = append(ballast, b)
	}
	if *growMB > 0 {
		go func() {
			time.Sleep(*growAfter)
			for i := 0; i < *growMB; i++ {
				b := make([]byte, 1<<20)
				for j := 0; j < len(b); j += 4096 {
					b[j] = 1
				}
				grown = append(grown, b)
			}
			atomic.StoreInt32(&growDone, 1)
		}()
	}
	if *ready != "" {
		tmp := *ready + ".tmp"
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "hooked:", err)
			os.Exit(1)
		}
		if err := os.Rename(tmp, *ready); err != nil {
			fmt.Fprintln(os.Stderr, "hooked:", err)
			os.Exit(1)
		}
	}
	var timeout <-chan time.Time
	if *exitAfter > 0 {
		timeout = time.After(*exitAfter)
	}
	select {
	case <-timeout:
	case <-exitNow:
	}
}
