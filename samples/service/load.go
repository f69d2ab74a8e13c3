package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// How much the planting load does (README: what each request leaves behind).
const (
	workers        = 8
	nLogins        = 260 // sessions created
	nLogouts       = 200 // leaky: ghosts in the notifier (leak 1)
	nRevokes       = 20  // removed properly
	nUploads       = 110 // uploads started, then...
	nCompleted     = 100 // ...completed: leaky: ghosts in the audit log (leak 2)
	nCancelled     = 10  // ...cancelled: removed properly
	nOpenUploads   = 10  // started last, still in progress
	nExports       = 400 // leaky: pinned by their finalizer closure (leak 3)
	nTxns          = 24  // leaky: pinned finalizer cycles (leak 4)
	nConns         = 300 // leaky: listener cycles left on the bus (leak 5)
	nWork          = 200 // per-request cycles that die with the request
	nItemOps       = 1500
	itemKeys       = 1000
	maxBackground  = 500_000 // requests of the background load, at most
	backgroundRate = 2 * time.Millisecond
)

type client struct {
	base string
	hc   *http.Client
}

func newClient(base string) *client {
	tr := &http.Transport{MaxIdleConns: 2 * workers, MaxIdleConnsPerHost: 2 * workers, IdleConnTimeout: time.Minute}
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// do sends one request and returns the response body; a status other than want is an error.
func (c *client) do(method, path string, want int) (string, error) {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != want {
		return "", fmt.Errorf("%s %s: status %d, want %d", method, path, resp.StatusCode, want)
	}
	return string(body), nil
}

// parallel runs f(0..n-1) on the worker pool and returns the first error.
func parallel(n int, f func(i int) error) error {
	var (
		next  int64 = -1
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// plant drives the service through its endpoints; in the leaky mode this is what leaks.
func plant(c *client) error {
	tokens := make([]string, nLogins)
	if err := parallel(nLogins, func(i int) (err error) {
		tokens[i], err = c.do("POST", "/sessions", http.StatusOK)
		return err
	}); err != nil {
		return err
	}
	if err := parallel(nLogouts+nRevokes, func(i int) error {
		if i < nLogouts {
			_, err := c.do("DELETE", "/sessions/"+tokens[i], http.StatusNoContent)
			return err
		}
		_, err := c.do("DELETE", "/admin/sessions/"+tokens[i], http.StatusNoContent)
		return err
	}); err != nil {
		return err
	}
	if err := parallel(nUploads, func(i int) error {
		_, err := c.do("POST", fmt.Sprintf("/uploads/%d", i+1), http.StatusCreated)
		return err
	}); err != nil {
		return err
	}
	if err := parallel(nUploads, func(i int) error {
		if i < nCompleted {
			_, err := c.do("PUT", fmt.Sprintf("/uploads/%d/complete", i+1), http.StatusNoContent)
			return err
		}
		_, err := c.do("DELETE", fmt.Sprintf("/uploads/%d", i+1), http.StatusNoContent)
		return err
	}); err != nil {
		return err
	}
	// The last uploads start one at a time, each followed by /stats (a Range). On Go
	// 1.19-1.23 a Store after a Range rebuilds the dirty map without the deleted keys and the
	// next Range promotes it, so no deleted key stays behind as a tombstone.
	for i := 0; i < nOpenUploads; i++ {
		if _, err := c.do("POST", fmt.Sprintf("/uploads/%d", nUploads+i+1), http.StatusCreated); err != nil {
			return err
		}
		if _, err := c.do("GET", "/stats", http.StatusOK); err != nil {
			return err
		}
	}
	steps := []struct {
		n            int
		method, path string
		want         int
	}{
		{nExports, "POST", "/exports", http.StatusOK},
		{nTxns, "POST", "/txns", http.StatusOK},
		{nConns, "GET", "/events", http.StatusOK},
		{nWork, "GET", "/work", http.StatusOK},
	}
	for _, st := range steps {
		if err := parallel(st.n, func(int) error {
			_, err := c.do(st.method, st.path, st.want)
			return err
		}); err != nil {
			return err
		}
	}
	if err := parallel(nItemOps, func(i int) error { return c.itemOp(i) }); err != nil {
		return err
	}
	activeTokens = append([]string(nil), tokens[nLogouts+nRevokes:]...)
	return nil
}

// activeTokens are the sessions still logged in (the background load reads them).
var activeTokens []string

// itemOp is one LRU request: mostly puts over more keys than the LRU holds, so it evicts.
func (c *client) itemOp(i int) error {
	key := fmt.Sprintf("/items/k%d", (i*7919)%itemKeys)
	if i%3 == 2 {
		_, err := c.do("GET", key, http.StatusOK)
		if err != nil && strings.Contains(err.Error(), "status 404") {
			return nil // evicted
		}
		return err
	}
	_, err := c.do("PUT", key, http.StatusNoContent)
	return err
}

// blockInFlight starts n requests that wait in /slow until released, and returns once all n
// are inside the handler. release lets them finish and waits for them.
func (c *client) blockInFlight(n int) (release func(), err error) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.do("GET", "/slow?wait=release", http.StatusOK); err != nil {
				errs <- err
			}
		}()
	}
	release = func() {
		close(srv.release)
		wg.Wait()
	}
	deadline := time.Now().Add(30 * time.Second)
	for inFlight() < n {
		select {
		case err := <-errs:
			release()
			return nil, err
		default:
		}
		if time.Now().After(deadline) {
			release()
			return nil, fmt.Errorf("only %d of %d /slow requests arrived", inFlight(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return release, nil
}

// background keeps bounded loopback load running for d (at most maxBackground requests):
// held requests wait in /slow until d is over (so some are always in flight), three workers
// wait in /slow for 150 ms each, three others read sessions, do /work and LRU puts and gets.
// None of it plants anything. It returns once the held requests are in flight.
func (c *client) background(d time.Duration, held int) error {
	stop := time.Now().Add(d)
	var sent int64
	more := func() bool { return time.Now().Before(stop) && atomic.AddInt64(&sent, 1) <= maxBackground }
	release, err := c.blockInFlight(held)
	if err != nil {
		return err
	}
	time.AfterFunc(d, func() { release() })
	for w := 0; w < 3; w++ {
		go func() {
			for more() {
				c.do("GET", "/slow?ms=150", http.StatusOK) //nolint:errcheck // best effort
			}
		}()
	}
	for w := 0; w < 3; w++ {
		go func(w int) {
			for i := w; more(); i += 3 {
				switch i % 4 {
				case 0:
					c.do("GET", "/sessions/"+activeTokens[i%len(activeTokens)], http.StatusOK) //nolint:errcheck
				case 1:
					c.do("GET", "/work", http.StatusOK) //nolint:errcheck
				default:
					c.itemOp(i) //nolint:errcheck
				}
				time.Sleep(backgroundRate)
			}
		}(w)
	}
	return nil
}
