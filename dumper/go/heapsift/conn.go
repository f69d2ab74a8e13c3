package heapsift

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	maxRequest     = 4096             // PROTOCOL.md: request line at most 4096 bytes
	requestTimeout = 10 * time.Second // a client that connects and says nothing
	replyTimeout   = 30 * time.Second
	maxFds         = 8 // received fds beyond one are an error, but must still be closed
)

// BusyError is the error text of a DUMP refused because another one is running.
const BusyError = "busy: another capture is in progress"

// Info is the INFO reply.
type Info struct {
	Proto       int    `json:"proto"`
	Pid         int    `json:"pid"`
	GoVersion   string `json:"go_version"`
	Exe         string `json:"exe"`
	StartUnixNs int64  `json:"start_unix_ns"`
	UID         int    `json:"uid"`
	Goarch      string `json:"goarch"`
	Manifest    bool   `json:"manifest"`
}

// DumpReply is the reply line of a DUMP; ManifestLen bytes of manifest follow it.
type DumpReply struct {
	OK          bool   `json:"ok"`
	PauseNs     int64  `json:"pause_ns"`
	GcNs        int64  `json:"gc_ns"`
	DumpSeq     uint64 `json:"dump_seq"`
	ManifestLen int    `json:"manifest_len"`
}

type errReply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// peerCred returns the credentials of the process on the other end of c (SO_PEERCRED).
func peerCred(c *net.UnixConn) (*syscall.Ucred, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Ucred
	var cerr error
	err = rc.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if err != nil {
		return nil, err
	}
	return cred, cerr
}

// peerAllowed says whether a peer with this uid may talk to the hook: same uid or root.
func peerAllowed(peerUID uint32) bool {
	return peerUID == 0 || int(peerUID) == os.Getuid()
}

// readRequest reads one '\n'-terminated request line and every fd passed with it.
// The fds are returned even on error so the caller can close them.
func readRequest(c *net.UnixConn) (string, []int, error) {
	var fds []int
	buf := make([]byte, maxRequest)
	oob := make([]byte, syscall.CmsgSpace(maxFds*4))
	n := 0
	for {
		rn, oobn, flags, _, err := c.ReadMsgUnix(buf[n:], oob)
		if oobn > 0 {
			msgs, perr := syscall.ParseSocketControlMessage(oob[:oobn])
			if perr == nil {
				for i := range msgs {
					if got, rerr := syscall.ParseUnixRights(&msgs[i]); rerr == nil {
						fds = append(fds, got...)
					}
				}
			}
		}
		if flags&syscall.MSG_CTRUNC != 0 {
			return "", fds, errors.New("too many file descriptors")
		}
		n += rn
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return string(buf[:i]), fds, nil
		}
		if err != nil {
			return "", fds, fmt.Errorf("reading request: %w", err)
		}
		if rn == 0 {
			return "", fds, errors.New("reading request: connection closed")
		}
		if n == len(buf) {
			return "", fds, errors.New("request line too long")
		}
	}
}

func closeFds(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

func writeJSON(c *net.UnixConn, v interface{}, tail []byte) {
	line, err := json.Marshal(v)
	if err != nil {
		return
	}
	out := make([]byte, 0, len(line)+1+len(tail))
	out = append(out, line...)
	out = append(out, '\n')
	out = append(out, tail...)
	_ = c.SetWriteDeadline(time.Now().Add(replyTimeout))
	_, _ = c.Write(out)
}

func replyError(c *net.UnixConn, msg string) {
	writeJSON(c, errReply{Error: msg}, nil)
}

// lingerClose half-closes c and discards what the client still sends (bounded in bytes and
// time) before closing, so that unread request bytes do not turn our close into a reset that
// would destroy the reply in flight.
func lingerClose(c *net.UnixConn) {
	_ = c.CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.CopyN(io.Discard, c, 1<<16)
	c.Close()
}

func handle(c *net.UnixConn) {
	cred, err := peerCred(c)
	if err != nil || !peerAllowed(cred.Uid) {
		c.Close() // PROTOCOL.md: close without a reply
		return
	}
	defer lingerClose(c)
	_ = c.SetReadDeadline(time.Now().Add(requestTimeout))
	line, fds, err := readRequest(c)
	if err != nil {
		closeFds(fds)
		replyError(c, err.Error())
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	words := strings.Fields(line)
	switch {
	case len(words) == 1 && words[0] == "INFO":
		closeFds(fds)
		writeJSON(c, info(), nil)
	case len(words) >= 1 && words[0] == "DUMP":
		nogc := false
		for _, w := range words[1:] {
			if w != "nogc" {
				closeFds(fds)
				replyError(c, "unknown DUMP option "+w)
				return
			}
			nogc = true
		}
		if len(fds) != 1 {
			closeFds(fds)
			replyError(c, fmt.Sprintf("DUMP needs exactly one file descriptor (SCM_RIGHTS), got %d", len(fds)))
			return
		}
		reply, man := dump(fds[0], nogc)
		writeJSON(c, reply, man)
	default:
		closeFds(fds)
		replyError(c, "unknown request")
	}
}

func info() Info {
	exe, _ := os.Executable()
	f := manifest.Load().(manifestFunc).f
	return Info{
		Proto:       Proto,
		Pid:         os.Getpid(),
		GoVersion:   runtime.Version(),
		Exe:         exe,
		StartUnixNs: startTime.UnixNano(),
		UID:         os.Getuid(),
		Goarch:      runtime.GOARCH,
		Manifest:    f != nil,
	}
}

// checkDataFd makes sure fd is open for writing and in blocking mode: the runtime's dump
// writer ignores short writes and EAGAIN (runtime/heapdump.go dwrite), so a non-blocking
// pipe would silently lose data.
func checkDataFd(fd int) error {
	fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		return fmt.Errorf("data fd: %v", errno)
	}
	if fl&syscall.O_ACCMODE == syscall.O_RDONLY {
		return errors.New("data fd is not open for writing")
	}
	if fl&syscall.O_NONBLOCK != 0 {
		if err := syscall.SetNonblock(fd, false); err != nil {
			return fmt.Errorf("data fd: %v", err)
		}
	}
	return nil
}

func callManifest(f func() []byte) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("manifest callback panicked: %v", r)
		}
	}()
	return f(), nil
}

// dump runs one capture into fd and closes fd. Only one runs at a time. It returns the reply
// (DumpReply or errReply) and the manifest bytes.
func dump(fd int, nogc bool) (interface{}, []byte) {
	if !atomic.CompareAndSwapInt32(&busy, 0, 1) {
		syscall.Close(fd) // refused: the fd is closed untouched
		return errReply{Error: BusyError}, nil
	}
	defer atomic.StoreInt32(&busy, 0)
	if err := checkDataFd(fd); err != nil {
		syscall.Close(fd)
		return errReply{Error: err.Error()}, nil
	}
	var r DumpReply
	if !nogc {
		t0 := time.Now()
		runtime.GC()
		r.GcNs = time.Since(t0).Nanoseconds()
	}
	var man []byte
	if f := manifest.Load().(manifestFunc).f; f != nil {
		var err error
		if man, err = callManifest(f); err != nil {
			syscall.Close(fd)
			return errReply{Error: err.Error()}, nil
		}
	}
	t0 := time.Now()
	debug.WriteHeapDump(uintptr(fd))
	r.PauseNs = time.Since(t0).Nanoseconds()
	syscall.Close(fd)
	r.OK = true
	r.DumpSeq = atomic.AddUint64(&dumpSeq, 1)
	r.ManifestLen = len(man)
	return r, man
}
