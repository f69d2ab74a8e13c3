package main

import (
	"log"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"heapsift.dev/samples/selfdump"
)

// ---- Leak 3: a finalizer closure that captures its object ----

// exportWriter buffers one export. Its finalizer reports writers that were never closed.
type exportWriter struct {
	ID     int
	Rows   int
	buf    []byte
	closed bool
}

// newExportWriter: the bug is the finalizer, a closure that captures w. The runtime keeps a
// finalizer's function alive, so w is always reachable and never finalized nor freed, with
// its 64 KiB buffer. The fix is a finalizer that does not capture its object.
func newExportWriter(id int, fixed bool) *exportWriter {
	w := &exportWriter{ID: id, buf: make([]byte, 0, exportSize)}
	if fixed {
		runtime.SetFinalizer(w, finalizeExport)
		finalizerDropped()
		return w
	}
	fin := func(_ *exportWriter) {
		if !w.closed {
			log.Printf("export %d: writer not closed", w.ID)
		}
		atomic.AddInt64(&finalizersRun, 1)
	}
	runtime.SetFinalizer(w, fin)
	notePinnedExport(w, selfdump.FuncvalOf(fin))
	return w
}

func finalizeExport(w *exportWriter) {
	if !w.closed {
		log.Printf("export %d: writer not closed", w.ID)
	}
	atomic.AddInt64(&finalizersRun, 1)
}

func (w *exportWriter) writeRow(i int) {
	if len(w.buf)+32 > cap(w.buf) {
		w.buf = w.buf[:0]
	}
	w.buf = strconv.AppendInt(w.buf, int64(i), 10)
	w.buf = append(w.buf, ",ok\n"...)
	w.Rows++
}

func (w *exportWriter) close() int {
	w.closed = true
	return len(w.buf)
}

// ---- Leak 4: a finalizer on a two-object cycle ----

// txn is a transaction; its finalizer rolls back one that was never committed. journal is
// its log. The bug: the journal points back at its txn, so the txn (which has the
// finalizer) is reachable from its own pointee and the runtime never finalizes the cycle.
// The fix: the journal names its txn by ID.
type txn struct {
	ID        int
	journal   *journal
	committed bool
}

type journal struct {
	owner   *txn // leaky only
	txnID   int
	entries []byte
}

func beginTxn(id int, fixed bool) *txn {
	t := &txn{ID: id}
	j := &journal{txnID: id, entries: make([]byte, 0, journalSize)}
	if !fixed {
		j.owner = t
	}
	t.journal = j
	runtime.SetFinalizer(t, finalizeTxn)
	if fixed {
		finalizerDropped()
	} else {
		notePinnedTxn(t)
	}
	return t
}

func finalizeTxn(t *txn) {
	if !t.committed {
		log.Printf("txn %d: rolled back by its finalizer", t.ID)
	}
	atomic.AddInt64(&finalizersRun, 1)
}

func (t *txn) record(stmt []byte) {
	if len(t.journal.entries)+len(stmt) <= cap(t.journal.entries) {
		t.journal.entries = append(t.journal.entries, stmt...)
	}
}

func (t *txn) commit() { t.committed = true }

// ---- Leak 5: a method-value cycle in a global listener list ----

type event struct {
	Kind string
	Seq  int64
}

// eventBus is the process-wide list of event listeners.
type eventBus struct {
	mu        sync.Mutex
	nextID    int
	listeners []listener
}

type listener struct {
	id int
	fn func(event)
}

var bus = &eventBus{}

func (b *eventBus) subscribe(fn func(event)) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	b.listeners = append(b.listeners, listener{id: b.nextID, fn: fn})
	return b.nextID
}

func (b *eventBus) unsubscribe(id int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, l := range b.listeners {
		if l.id == id {
			copy(b.listeners[i:], b.listeners[i+1:])
			b.listeners[len(b.listeners)-1] = listener{}
			b.listeners = b.listeners[:len(b.listeners)-1]
			return
		}
	}
}

func (b *eventBus) publish(ev event) {
	b.mu.Lock()
	fns := make([]func(event), len(b.listeners))
	for i, l := range b.listeners {
		fns[i] = l.fn
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// wsConn is one event-stream connection. c.onEvent = c.handle is a method value that
// captures c (a cycle c -> funcval -> c), and it is registered on the global bus. The bug:
// close does not unsubscribe, so every closed connection stays on the bus forever.
type wsConn struct {
	ID      int
	out     []byte
	onEvent func(event)
	subID   int
	fixed   bool
	closed  int32
	dropped int64
}

func openConn(id int, fixed bool) *wsConn {
	c := &wsConn{ID: id, out: make([]byte, 0, connBufSize), fixed: fixed}
	c.onEvent = c.handle
	c.subID = bus.subscribe(c.onEvent)
	if !fixed {
		noteConn(c, selfdump.FuncvalOf(c.onEvent))
	}
	return c
}

func (c *wsConn) handle(ev event) {
	if atomic.LoadInt32(&c.closed) != 0 {
		atomic.AddInt64(&c.dropped, 1)
		return
	}
	if len(c.out)+len(ev.Kind)+24 > cap(c.out) {
		c.out = c.out[:0]
	}
	c.out = append(c.out, ev.Kind...)
	c.out = append(c.out, ' ')
	c.out = strconv.AppendInt(c.out, ev.Seq, 10)
	c.out = append(c.out, '\n')
}

func (c *wsConn) close() {
	atomic.StoreInt32(&c.closed, 1)
	if c.fixed {
		bus.unsubscribe(c.subID)
	}
}
