// secret plants random tokens in every kind of memory a heap dump holds, writes a heap dump
// with debug.WriteHeapDump while they are all live, and prints the tokens (hex) as JSON so a
// test can check that `heapsift redact` leaves no copy of them.
//
// Usage: secret OUT.dump
//
// Tokens (32 random bytes each, distinct per place):
//
//	heap   raw bytes in a heap object that also holds a pointer
//	slice  raw bytes in the backing array of a global []byte
//	bss    raw bytes in a global struct with a pointer (so it lives in .bss, which is dumped)
//	string the token's hex text as a string field of a heap struct
//	stack  raw bytes in a local array of a goroutine blocked during the dump
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
)

type heapHolder struct {
	Key  [32]byte
	Next *heapHolder
}

type creds struct {
	User     string
	Password string
}

var (
	heapObj     *heapHolder
	globalSlice []byte
	bssHolder   struct {
		p   *int
		key [32]byte
	}
	login *creds
)

func token() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return b
}

// holdOnStack keeps tok in a stack array until done is closed.
//
//go:noinline
func holdOnStack(tok []byte, ready chan<- struct{}, done <-chan struct{}, out chan<- [32]byte) {
	var local [32]byte
	copy(local[:], tok)
	ready <- struct{}{}
	<-done
	out <- local
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: secret OUT.dump")
		os.Exit(2)
	}
	toks := map[string][]byte{}
	for _, k := range []string{"heap", "slice", "bss", "string", "stack"} {
		toks[k] = token()
	}
	heapObj = &heapHolder{}
	copy(heapObj.Key[:], toks["heap"])
	heapObj.Next = heapObj
	globalSlice = append([]byte(nil), toks["slice"]...)
	bssHolder.p = new(int)
	copy(bssHolder.key[:], toks["bss"])
	login = &creds{User: "admin", Password: hex.EncodeToString(toks["string"])}

	ready, done, out := make(chan struct{}), make(chan struct{}), make(chan [32]byte)
	go holdOnStack(toks["stack"], ready, done, out)
	<-ready
	// Only the stack copy of the stack token may remain: wipe the source slice.
	for i := range toks["stack"] {
		toks["stack"][i] = 0
	}
	// The truth is formatted before the dump (its buffers are in the dump too), except the
	// stack token, which the goroutine hands back after the dump.
	truth := map[string]string{}
	for k, v := range toks {
		truth[k] = hex.EncodeToString(v)
	}
	fd, err := syscall.Open(os.Args[1], syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	debug.WriteHeapDump(uintptr(fd))
	syscall.Close(fd)
	close(done)
	local := <-out
	truth["stack"] = hex.EncodeToString(local[:])
	runtime.KeepAlive(heapObj)
	runtime.KeepAlive(login)
	enc, _ := json.Marshal(truth)
	fmt.Println(string(enc))
}
