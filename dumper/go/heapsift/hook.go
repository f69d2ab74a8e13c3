package heapsift

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Proto is the protocol version this hook speaks (PROTOCOL.md).
const Proto = 1

// Options configure the hook. The zero value is what the init-time start uses.
type Options struct {
	// Manifest, when not nil, is called for every DUMP after the GC and before the heap
	// dump is written; its bytes are sent to the client after the reply line. It runs on the
	// hook's connection goroutine while the program keeps running, so the addresses it
	// names are those of the dump unless the program moves things in between.
	Manifest func() []byte
	// Dir is the private directory for the socket; "" means $TMPDIR/heapsift-<uid>
	// (/tmp/heapsift-<uid> when TMPDIR is unset).
	Dir string
	// NoSignals leaves SIGINT and SIGTERM alone. A program that handles them itself should
	// set it and call Stop on its shutdown path.
	NoSignals bool
}

type listener struct {
	ln   *net.UnixListener
	dir  string
	path string
	done chan struct{} // closed when the accept loop has returned
}

var (
	mu        sync.Mutex
	cur       *listener      // the listening socket, nil when stopped
	manifest  atomic.Value   // manifestFunc
	busy      int32          // 1 while a DUMP runs
	dumpSeq   uint64         // number of DUMPs completed
	startTime = time.Now()   // reported as start_unix_ns: package init, i.e. process start
	sigc      chan os.Signal // non-nil while the signal watcher runs
	sigStop   chan struct{}
	initErr   error
)

type manifestFunc struct{ f func() []byte }

func init() {
	manifest.Store(manifestFunc{})
	if os.Getenv("HEAPSIFT_HOOK") == "0" {
		return
	}
	mu.Lock()
	initErr = startLocked(Options{})
	mu.Unlock()
}

// Start sets the options and starts listening if the hook is not listening yet (or moves the
// socket when opts.Dir names another directory). It returns the error that kept the hook
// from listening; the hook is then stopped. Start works even when HEAPSIFT_HOOK=0.
func Start(opts Options) error {
	mu.Lock()
	defer mu.Unlock()
	return startLocked(opts)
}

// Stop closes the socket and removes it; the hook stops serving. It is safe to call more
// than once. Call it before returning from main: Go runs no code at exit.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	stopSignalsLocked()
	return stopLocked()
}

// SocketPath returns the path the hook listens on, or "" when it is not listening.
func SocketPath() string {
	mu.Lock()
	defer mu.Unlock()
	if cur == nil {
		return ""
	}
	return cur.path
}

// InitError returns the error of the init-time start (nil when it listened or was disabled).
func InitError() error {
	mu.Lock()
	defer mu.Unlock()
	return initErr
}

// DefaultDir returns the socket directory used when Options.Dir is empty.
func DefaultDir() string {
	return filepath.Join(os.TempDir(), "heapsift-"+strconv.Itoa(os.Getuid()))
}

func startLocked(opts Options) error {
	manifest.Store(manifestFunc{opts.Manifest})
	dir := opts.Dir
	if dir == "" {
		dir = DefaultDir()
	}
	if cur != nil && cur.dir != dir {
		if err := stopLocked(); err != nil {
			return err
		}
	}
	if cur == nil {
		l, err := listen(dir)
		if err != nil {
			stopSignalsLocked()
			return err
		}
		cur = l
		go serve(l)
	}
	if opts.NoSignals {
		stopSignalsLocked()
	} else {
		startSignalsLocked()
	}
	return nil
}

func stopLocked() error {
	l := cur
	if l == nil {
		return nil
	}
	cur = nil
	err := l.ln.Close() // unlinks the socket (net.UnixListener created it)
	<-l.done
	if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// privateDir creates dir (0700) if needed and checks that it is a real directory owned by
// this uid; a directory with group or other permission bits is tightened to 0700.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("heapsift: socket dir: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("heapsift: socket dir: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 || !fi.IsDir() {
		return fmt.Errorf("heapsift: socket dir %s is not a directory (symlink?)", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != os.Getuid() {
		return fmt.Errorf("heapsift: socket dir %s is not owned by uid %d", dir, os.Getuid())
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("heapsift: socket dir: %w", err)
		}
	}
	return nil
}

func listen(dir string) (*listener, error) {
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".sock")
	// A socket with our pid is stale by definition: its owner was another process that
	// had our pid and is gone (PROTOCOL.md). Anything else at that path is left alone.
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("heapsift: %s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("heapsift: removing stale socket: %w", err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("heapsift: listen: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("heapsift: chmod socket: %w", err)
	}
	return &listener{ln: ln, dir: dir, path: path, done: make(chan struct{})}, nil
}

// serve is the hook's only idle goroutine: it blocks in Accept and hands each connection
// to a goroutine of its own.
func serve(l *listener) {
	defer close(l.done)
	for {
		c, err := l.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and friends: back off instead of spinning.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go handle(c)
	}
}

func startSignalsLocked() {
	if sigc != nil {
		return
	}
	var sigs []os.Signal
	for _, s := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		// A program started with the signal ignored (nohup, background job) keeps it ignored.
		if !signal.Ignored(s) {
			sigs = append(sigs, s)
		}
	}
	if len(sigs) == 0 {
		return
	}
	sigc = make(chan os.Signal, 1)
	sigStop = make(chan struct{})
	signal.Notify(sigc, sigs...)
	go watchSignals(sigc, sigStop)
}

func stopSignalsLocked() {
	if sigc == nil {
		return
	}
	signal.Stop(sigc)
	close(sigStop)
	sigc, sigStop = nil, nil
}

// watchSignals removes the socket on SIGINT/SIGTERM and then re-raises the signal with our
// handler removed, so the signal has the effect it would have had without the hook (for a
// program with no handler of its own: death by that signal, status 128+n in a shell).
func watchSignals(c chan os.Signal, stop chan struct{}) {
	select {
	case <-stop:
		return
	case s := <-c:
		mu.Lock()
		_ = stopLocked()
		if sigc == c {
			signal.Stop(c)
			close(sigStop)
			sigc, sigStop = nil, nil
		}
		mu.Unlock()
		if sn, ok := s.(syscall.Signal); ok {
			_ = syscall.Kill(os.Getpid(), sn)
		}
	}
}
