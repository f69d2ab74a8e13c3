package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/patrickmn/go-cache"

	"heapsift.dev/samples/selfdump"
)

// Sizes of the payloads the handlers allocate.
const (
	prefsSize   = 4 << 10   // a session's preferences blob
	uploadSize  = 8 << 10   // an upload's staged data
	exportSize  = 64 << 10  // an export writer's buffer
	journalSize = 128 << 10 // a transaction's journal
	connBufSize = 2 << 10   // an event connection's send buffer
	scratchSize = 1 << 10   // a request's scratch buffer
	itemSize    = 1 << 10   // an LRU item's data
	lruSize     = 256       // entries the item LRU keeps
)

// srv is the service. Handlers are its methods, registered once on its router as method
// values (one instance of a method-value cycle: a singleton, not a leak).
var srv *server

type server struct {
	fixed  bool
	router *mux.Router
	http   *http.Server

	// sessions: token -> *session, in go-cache (whose janitor uses a finalizer on the outer
	// *cache.Cache: a correct use). Leak 1: /logout deletes a session from the cache but
	// not from notify, which keeps it: a ghost.
	sessions *cache.Cache
	notify   notifier

	// uploads: upload id -> *upload while it is in progress. Leak 2: /complete takes the
	// upload out of the map and keeps the whole *upload in the audit log: a ghost.
	uploads  sync.Map
	auditMu  sync.Mutex
	audit    []*upload     // leaky: the completed uploads themselves
	auditLog []auditRecord // fixed: what the audit needs, by value

	// items: a bounded LRU of *item; evicted items are gone (but see lastEvicted).
	items *lru.Cache[string, *item]

	release chan struct{} // closed to release the /slow requests that wait for it
	nextReq int64         // atomic
	evicted int64         // atomic: LRU evictions
}

type session struct {
	ID      int
	Token   string
	Created time.Time
	Prefs   []byte
}

// notifier is the list of sessions subscribed to notifications.
type notifier struct {
	mu   sync.Mutex
	subs []*session
}

func (n *notifier) add(s *session) {
	n.mu.Lock()
	n.subs = append(n.subs, s)
	n.mu.Unlock()
}

func (n *notifier) remove(s *session) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, x := range n.subs {
		if x == s {
			copy(n.subs[i:], n.subs[i+1:])
			n.subs[len(n.subs)-1] = nil
			n.subs = n.subs[:len(n.subs)-1]
			return
		}
	}
}

type upload struct {
	ID   int
	Data []byte
}

type auditRecord struct {
	ID    int
	Bytes int
	When  time.Time
}

type item struct {
	Key  string
	Data []byte
}

func newServer(fixed bool) *server {
	s := &server{fixed: fixed, release: make(chan struct{})}
	s.sessions = cache.New(time.Hour, time.Minute) // starts the janitor and sets its finalizer
	onEvict := s.onItemEvicted
	s.items, _ = lru.NewWithEvict[string, *item](lruSize, onEvict)
	s.router = mux.NewRouter()
	s.route("/sessions", s.handleLogin, "POST")
	s.route("/sessions/{token}", s.handleMe, "GET")
	s.route("/sessions/{token}", s.handleLogout, "DELETE")
	s.route("/admin/sessions/{token}", s.handleRevoke, "DELETE")
	s.route("/uploads/{id}", s.handleUploadStart, "POST")
	s.route("/uploads/{id}/complete", s.handleUploadComplete, "PUT")
	s.route("/uploads/{id}", s.handleUploadCancel, "DELETE")
	s.route("/stats", s.handleStats, "GET")
	s.route("/exports", s.handleExport, "POST")
	s.route("/txns", s.handleTxn, "POST")
	s.route("/events", s.handleEvents, "GET")
	s.route("/work", s.handleWork, "GET")
	s.route("/slow", s.handleSlow, "GET")
	s.route("/items/{key}", s.handleItemGet, "GET")
	s.route("/items/{key}", s.handleItemPut, "PUT")
	s.http = &http.Server{Handler: s.router, ReadHeaderTimeout: 10 * time.Second}
	noteSingleton(s, selfdump.FuncvalOf(onEvict))
	return s
}

// route registers a handler (a method value of s) and notes its funcval for the manifest.
func (s *server) route(path string, h http.HandlerFunc, method string) {
	s.router.HandleFunc(path, h).Methods(method)
	noteRoute(selfdump.FuncvalOf(h))
}

func (s *server) onItemEvicted(key string, it *item) {
	atomic.AddInt64(&s.evicted, 1)
	noteEvicted(it)
}

// uploadID is the request's {id}; on a bad one it answers 400 and returns false.
func uploadID(w http.ResponseWriter, r *http.Request) (int, bool) {
	id, err := strconv.Atoi(mux.Vars(r)["id"])
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
	return id, err == nil
}

func (s *server) handleLogin(w http.ResponseWriter, r *http.Request) {
	id := int(atomic.AddInt64(&s.nextReq, 1))
	ss := &session{ID: id, Token: fmt.Sprintf("s%08d", id), Created: time.Now(), Prefs: make([]byte, prefsSize)}
	s.sessions.Set(ss.Token, ss, cache.DefaultExpiration)
	s.notify.add(ss)
	bus.publish(event{Kind: "login", Seq: int64(id)})
	fmt.Fprint(w, ss.Token)
}

func (s *server) handleMe(w http.ResponseWriter, r *http.Request) {
	v, ok := s.sessions.Get(mux.Vars(r)["token"])
	if !ok {
		http.NotFound(w, r)
		return
	}
	fmt.Fprint(w, v.(*session).ID)
}

// handleLogout ends a session. The bug (leak 1): the session stays in the notifier's list.
func (s *server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r, s.fixed)
}

// handleRevoke ends a session the right way, in both modes.
func (s *server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r, true)
}

// endSession deletes the request's {token} from the session cache and, with unsubscribe,
// from the notifier's list too.
func (s *server) endSession(w http.ResponseWriter, r *http.Request, unsubscribe bool) {
	token := mux.Vars(r)["token"]
	v, ok := s.sessions.Get(token)
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.sessions.Delete(token)
	if unsubscribe {
		s.notify.remove(v.(*session))
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) handleUploadStart(w http.ResponseWriter, r *http.Request) {
	id, ok := uploadID(w, r)
	if !ok {
		return
	}
	s.uploads.Store(id, &upload{ID: id, Data: make([]byte, uploadSize)})
	w.WriteHeader(http.StatusCreated)
}

// handleUploadComplete finishes an upload. The bug (leak 2): the audit log keeps the whole
// upload, staged data included; the fix keeps a record by value.
func (s *server) handleUploadComplete(w http.ResponseWriter, r *http.Request) {
	id, ok := uploadID(w, r)
	if !ok {
		return
	}
	v, ok := s.uploads.LoadAndDelete(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	u := v.(*upload)
	s.auditMu.Lock()
	if s.fixed {
		s.auditLog = append(s.auditLog, auditRecord{ID: u.ID, Bytes: len(u.Data), When: time.Now()})
	} else {
		s.audit = append(s.audit, u)
	}
	s.auditMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) handleUploadCancel(w http.ResponseWriter, r *http.Request) {
	id, ok := uploadID(w, r)
	if !ok {
		return
	}
	if _, ok := s.uploads.LoadAndDelete(id); !ok {
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleStats counts the uploads in progress (a Range over the sync.Map).
func (s *server) handleStats(w http.ResponseWriter, r *http.Request) {
	n := 0
	s.uploads.Range(func(_, _ interface{}) bool { n++; return true })
	fmt.Fprintf(w, "uploads %d\nsessions %d\nitems %d\n", n, s.sessions.ItemCount(), s.items.Len())
}

func (s *server) handleExport(w http.ResponseWriter, r *http.Request) {
	ew := newExportWriter(int(atomic.AddInt64(&s.nextReq, 1)), s.fixed)
	for i := 0; i < 100; i++ {
		ew.writeRow(i)
	}
	n := ew.close()
	fmt.Fprint(w, n)
}

func (s *server) handleTxn(w http.ResponseWriter, r *http.Request) {
	t := beginTxn(int(atomic.AddInt64(&s.nextReq, 1)), s.fixed)
	t.record([]byte("UPDATE accounts SET balance = balance - 1"))
	t.commit()
	fmt.Fprint(w, t.ID)
}

func (s *server) handleEvents(w http.ResponseWriter, r *http.Request) {
	c := openConn(int(atomic.AddInt64(&s.nextReq, 1)), s.fixed)
	c.handle(event{Kind: "hello", Seq: int64(c.ID)})
	w.Write(c.out) //nolint:errcheck
	c.close()
}

// reqState is per-request state whose onDone is its own method value: a cycle that dies
// with the request.
type reqState struct {
	ID      int64
	ctx     context.Context
	cancel  context.CancelFunc
	scratch []byte
	onDone  func()
}

func (rs *reqState) finish() { rs.cancel() }

func (s *server) newReqState(r *http.Request) *reqState {
	ctx, cancel := context.WithCancel(r.Context())
	rs := &reqState{ID: atomic.AddInt64(&s.nextReq, 1), ctx: ctx, cancel: cancel, scratch: make([]byte, scratchSize)}
	rs.onDone = rs.finish
	return rs
}

func (s *server) handleWork(w http.ResponseWriter, r *http.Request) {
	rs := s.newReqState(r)
	defer rs.onDone()
	for i := range rs.scratch {
		rs.scratch[i] = byte(i)
	}
	fmt.Fprint(w, rs.ID)
}

// handleSlow waits (for ?ms=N milliseconds, or with ?wait=release until the service
// releases it) with its request state on its stack: in flight at capture time.
func (s *server) handleSlow(w http.ResponseWriter, r *http.Request) {
	rs := s.newReqState(r)
	defer rs.onDone()
	done := noteInFlight(rs)
	defer done()
	var timeout <-chan time.Time
	if ms, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil {
		timeout = time.After(time.Duration(ms) * time.Millisecond)
	}
	select {
	case <-s.release:
	case <-timeout:
	case <-rs.ctx.Done():
	}
	fmt.Fprint(w, rs.ID, len(rs.scratch))
}

func (s *server) handleItemGet(w http.ResponseWriter, r *http.Request) {
	it, ok := s.items.Get(mux.Vars(r)["key"])
	if !ok {
		http.NotFound(w, r)
		return
	}
	fmt.Fprint(w, len(it.Data))
}

func (s *server) handleItemPut(w http.ResponseWriter, r *http.Request) {
	key := mux.Vars(r)["key"]
	s.items.Add(key, &item{Key: key, Data: make([]byte, itemSize)})
	w.WriteHeader(http.StatusNoContent)
}
