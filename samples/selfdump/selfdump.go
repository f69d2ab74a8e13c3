// Package selfdump is what the samples share: writing their own heap dump and manifest the way
// heapsift's hook answers a DUMP (for runs without the hook, -selfdump), settling before a
// capture, and naming the closures they plant.
package selfdump

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"
)

// Write collects garbage, builds the manifest with manifest (after the collection, so it
// describes what the dump holds), writes the heap dump to path and the manifest as JSON to
// path+".manifest.json" (atomically). Automatic GC is off from the collection to the end of
// the dump, so none runs between manifest and dump. A manifest that fails its checks
// (manifest returns an error) is returned and neither file is written.
func Write(path string, manifest func() (interface{}, error)) error {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	m, err := manifest()
	if err != nil {
		return err
	}
	man, err := json.Marshal(m)
	if err != nil {
		return err
	}
	m = nil
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	debug.WriteHeapDump(f.Fd())
	if err := f.Close(); err != nil {
		return err
	}
	return WriteAtomic(path+".manifest.json", man)
}

// WriteAtomic writes data to path through a temporary file and a rename, so a reader sees the
// whole file or none.
func WriteAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// GoMinor returns the minor version of the running Go (19 for go1.19.8), or -1.
func GoMinor() int {
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

// Settle collects twice, each time calling await, which waits until the finalizers of the
// objects the program dropped have run: afterwards none of them is queued and the objects
// whose finalizer ran are freed, so only the last collection's garbage can be in a dump.
func Settle(await func() error) error {
	for i := 0; i < 2; i++ {
		runtime.GC()
		if err := await(); err != nil {
			return err
		}
	}
	return nil
}

// FuncvalOf returns the funcval a func value points to (its closure object), or nil.
func FuncvalOf[F any](fn F) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&fn))
}

// FuncvalName returns the name of the function funcval fv runs, as the symbol table has it;
// "" for nil.
func FuncvalName(fv unsafe.Pointer) string {
	if fv == nil {
		return ""
	}
	if f := runtime.FuncForPC(*(*uintptr)(fv)); f != nil {
		return f.Name()
	}
	return "?"
}
