// Package heapsift is the in-process hook that lets heapsift-dump capture heap dumps of a
// running Go program. Import it for its side effect, like net/http/pprof:
//
//	import _ "heapsift.dev/go/heapsift"
//
// At init the hook listens on a Unix socket, $TMPDIR/heapsift-<uid>/<pid>.sock (0600, in a
// 0700 directory), unless HEAPSIFT_HOOK=0. A client (heapsift-dump) asks for INFO or sends a
// DUMP request together with a file descriptor; the hook runs runtime.GC, builds the optional
// manifest and calls runtime/debug.WriteHeapDump on that descriptor. The wire protocol is
// specified in PROTOCOL.md beside go.mod.
//
// Idle cost: one goroutine blocked in Accept, plus (unless Options.NoSignals) one goroutine
// waiting for SIGINT/SIGTERM so the socket can be removed before the signal's default effect.
//
// Go has no exit hook: a program that returns from main should call Stop (defer
// heapsift.Stop()) to remove its socket. A socket left behind by a dead process is harmless:
// clients skip sockets whose pid is dead and the next hook with that pid removes it.
package heapsift
