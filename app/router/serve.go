package router

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	idleClientTimeout = 2 * time.Minute // a keep-alive connection waiting for its next request
	headerTimeout     = time.Minute     // reading a request's head once it began
)

// aLongTimeAgo is a deadline that has passed: setting it interrupts a
// read or write in progress.
var aLongTimeAgo = time.Unix(1, 0)

// Serve serves on ln until ctx ends, then stops accepting (closing ln),
// lets the requests in flight finish for up to the router's Timeout, closes
// what is left (upgraded connections included) and returns once every
// connection's line is logged. It returns an error only when serving
// failed.
func (r *Router) Serve(ctx context.Context, ln net.Listener) error {
	stopLog := r.log.start()
	defer stopLog()

	// base ends when the connections left are cut off: it ends the dials
	// and waits for a boot that were still going on.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	s := &server{r: r, base: base, conns: make(map[*conn]struct{}), changed: make(chan struct{}, 1)}
	accepted := make(chan error, 1)
	go func() { accepted <- s.accept(ln) }()
	prune := time.NewTicker(idleTimeout / 3)
	defer prune.Stop()
	var failed error
wait:
	for {
		select {
		case err := <-accepted:
			failed = fmt.Errorf("router: serving on %s: %w", ln.Addr(), err)
			s.closing.Store(true)
			break wait
		case <-prune.C:
			r.table.prune(time.Now().Add(-idleTimeout), false)
		case <-ctx.Done():
			s.closing.Store(true)
			ln.Close()
			<-accepted
			s.drain(r.timeout)
			break wait
		}
	}
	s.cut()
	cancelBase()
	s.wg.Wait()
	r.table.prune(time.Time{}, true)
	return failed
}

// server is one Serve: the client connections it has open.
type server struct {
	r       *Router
	base    context.Context
	closing atomic.Bool // Serve's context ended: no new connection or request
	wg      sync.WaitGroup

	mu      sync.Mutex
	conns   map[*conn]struct{}
	changed chan struct{} // a connection went idle or closed, while closing
}

// accept accepts connections until ln fails or is closed (then nil).
func (s *server) accept(ln net.Listener) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() { // out of file descriptors: wait, as net/http does
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := &conn{s: s, r: s.r, nc: nc}
		c.ip, c.port = addrHost(nc.RemoteAddr()), addrPort(nc.LocalAddr())
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// drain closes the idle connections and waits, up to timeout, for the
// others to finish their request (upgraded ones are not waited for).
func (s *server) drain(timeout time.Duration) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		busy := 0
		s.mu.Lock()
		for c := range s.conns {
			c.mu.Lock()
			switch c.state {
			case idle:
				c.nc.Close()
			case active:
				busy++
			}
			c.mu.Unlock()
		}
		s.mu.Unlock()
		if busy == 0 {
			return
		}
		select {
		case <-s.changed:
		case <-timer.C:
			return
		}
	}
}

// cut closes every connection left, and the app connection each uses.
func (s *server) cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.mu.Lock()
		c.cut = true
		c.nc.Close()
		if c.app != nil {
			c.app.nc.Close()
		}
		c.mu.Unlock()
	}
}

func addrHost(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

func addrPort(a net.Addr) string {
	if _, p, err := net.SplitHostPort(a.String()); err == nil {
		return p
	}
	return ""
}

// connState is where a client connection is, for Serve's shutdown.
type connState uint8

const (
	idle     connState = iota // waiting for a request: closed at shutdown
	active                    // serving one: waited for
	upgraded                  // no longer HTTP: cut off at the end
)

// conn is a client connection, served by one goroutine, one request after
// the other.
type conn struct {
	s        *server
	r        *Router
	nc       net.Conn
	cr       connReader
	br       *bufio.Reader
	bw       *bufio.Writer
	ip, port string

	mu       sync.Mutex
	state    connState
	cut      bool     // Serve closed it
	app      *appConn // the app connection in use, closed with it
	cancel   func()   // ends the wait for a boot when the client goes
	watching bool     // a watch runs
	headDone bool     // the response head came: no response header timeout to set
	watchEnd bool     // the response is over: no watch may start
	armed    bool     // watchTimer may start a watch
	// watchTimer starts the watch of a request without a body a moment
	// after it was sent: most responses come before, and need none.
	watchTimer *time.Timer

	gone  atomic.Bool // the client closed the connection while waiting
	watch sync.WaitGroup
	body  bodyState

	req, res head
	out      []byte // the request head for the app
	x        exchange
}

// connReader reads the client connection for its bufio.Reader, with the
// byte a watch may have read first.
type connReader struct {
	nc      net.Conn
	stash   byte
	stashed bool
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.stashed && len(p) > 0 {
		p[0], r.stashed = r.stash, false
		return 1, nil
	}
	return r.nc.Read(p)
}

var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

// serve reads and answers requests until the client or the router ends
// the connection.
func (c *conn) serve() {
	c.cr.nc = c.nc
	c.br = readers.Get().(*bufio.Reader)
	c.br.Reset(&c.cr)
	c.bw = writers.Get().(*bufio.Writer)
	c.bw.Reset(c.nc)
	defer c.close()
	for {
		c.nc.SetReadDeadline(time.Now().Add(idleClientTimeout))
		if _, err := c.br.Peek(1); err != nil {
			return
		}
		if !c.setState(active) {
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(headerTimeout))
		if err := c.req.readRequest(c.br); err != nil {
			c.reject(err)
			return
		}
		c.nc.SetReadDeadline(time.Time{})
		if !c.serveRequest() || !c.setState(idle) {
			return
		}
	}
}

// setState moves the connection to s (idle or active), telling a
// shutdown in progress; it reports false when the connection must close
// instead: Serve is ending (a request that arrives then is not begun: the
// client may send it again).
func (c *conn) setState(s connState) bool {
	c.mu.Lock()
	c.state = s
	ok := !c.cut && !c.s.closing.Load()
	c.mu.Unlock()
	if !ok {
		select {
		case c.s.changed <- struct{}{}:
		default:
		}
	}
	return ok
}

func (c *conn) close() {
	c.nc.Close()
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	select {
	case c.s.changed <- struct{}{}:
	default:
	}
	if c.watchTimer != nil {
		c.watchTimer.Stop()
	}
	c.br.Reset(nil)
	readers.Put(c.br)
	c.bw.Reset(nil)
	writers.Put(c.bw)
	c.s.wg.Done()
}

// reject answers a request that could not be read, as net/http would,
// logs it and lets the connection close. A client that went before
// sending a whole request gets nothing.
func (c *conn) reject(err error) {
	status := 400
	switch {
	case errors.Is(err, errTooLarge):
		status = 431
	case errors.Is(err, errBadVersion):
		status = 505
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, os.ErrDeadlineExceeded):
		return
	case !errors.Is(err, errMalformed) && !errors.Is(err, errBadLength) && !errors.Is(err, errBadEncoding):
		return // the connection failed
	}
	n := c.answerPlain(status, true)
	c.r.log.add(&entry{code: badRequest, fwd: c.ip, connect: -1, service: -1, status: status, bytes: int64(n)})
	c.lingerClose()
}

// answerPlain writes net/http's own plain answer with status ("400 Bad
// Request"), closing the connection when close; it returns its length.
func (c *conn) answerPlain(status int, close bool) int {
	var a [256]byte
	b := append(a[:0], "HTTP/1.1 "...)
	text := strconv.Itoa(status) + " " + statusText(status)
	b = append(b, text...)
	b = append(b, "\r\nContent-Type: text/plain; charset=utf-8\r\n"...)
	if close {
		b = append(b, "Connection: close\r\n"...)
	} else {
		b = append(b, "X-Content-Type-Options: nosniff\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(text)+1), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, text...)
	if !close {
		b = append(b, '\n')
	}
	c.bw.Write(b)
	c.bw.Flush()
	return len(b)
}

// lingerClose closes the sending side and reads what the client still
// sends for a moment, so that the answer is not lost to a reset.
func (c *conn) lingerClose() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		io.CopyN(io.Discard, c.nc, 256<<10)
	}
}

// abort ends the connection at once (a reset when it can), for a response
// that cannot be finished.
func (c *conn) abort() {
	c.bw.Flush()
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.nc.Close()
}

// setApp records the app connection in use, so that Serve can cut it off
// and a client that goes away ends it (clientGone, before or after).
func (c *conn) setApp(ac *appConn) {
	c.mu.Lock()
	c.app = ac
	cut := c.cut
	c.mu.Unlock()
	if ac != nil && (cut || c.gone.Load()) {
		ac.nc.Close()
	}
}

// startWatchLocked watches the client connection while the router waits
// for an app or streams its response: a client that closes it ends the
// wait or the stream (c.mu held). Nothing else may read the connection
// until stopWatch.
func (c *conn) startWatchLocked() {
	if c.br.Buffered() > 0 || c.cr.stashed || c.watchEnd || c.watching {
		return // the client sent more already (pipelining): it is there
	}
	c.watching = true
	c.watch.Add(1)
	go c.watchClient()
}

// watchDelay is how long a request without a body waits for its app
// before the client is watched.
const watchDelay = 5 * time.Millisecond

// armWatch starts the watch in a moment, unless stopWatch comes first.
func (c *conn) armWatch() {
	c.mu.Lock()
	c.armed = true
	c.mu.Unlock()
	if c.watchTimer == nil {
		c.watchTimer = time.AfterFunc(watchDelay, c.delayedWatch)
	} else {
		c.watchTimer.Reset(watchDelay)
	}
}

func (c *conn) delayedWatch() {
	c.mu.Lock()
	if c.armed {
		c.startWatchLocked()
	}
	c.mu.Unlock()
}

func (c *conn) watchClient() {
	defer c.watch.Done()
	var b [1]byte
	n, err := c.nc.Read(b[:])
	if n == 1 {
		c.cr.stash, c.cr.stashed = b[0], true
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.clientGone()
	}
}

// stopWatch ends the watch, if any (and with final, any later one: the
// response is over); it reports whether the client went away.
func (c *conn) stopWatch(final bool) bool {
	c.mu.Lock()
	c.armed = false
	c.watchEnd = c.watchEnd || final
	w := c.watching
	c.watching = false
	c.mu.Unlock()
	if w {
		c.nc.SetReadDeadline(aLongTimeAgo)
		c.watch.Wait()
		c.nc.SetReadDeadline(time.Time{})
	}
	return c.gone.Load()
}

// clientGone ends what waits for the client's sake: the app connection
// (which then fails) or the wait for a boot.
func (c *conn) clientGone() {
	c.gone.Store(true)
	c.mu.Lock()
	app, cancel := c.app, c.cancel
	c.mu.Unlock()
	if app != nil {
		app.nc.Close()
	}
	if cancel != nil {
		cancel()
	}
}
