package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Serve serves on ln until ctx ends, then stops accepting (closing ln),
// lets the requests in flight finish for up to the router's Timeout, closes
// what is left (upgraded connections included) and returns. It returns an
// error only when serving failed. The log line of an upgraded connection
// is written when it ends, which may be just after Serve returns.
func (r *Router) Serve(ctx context.Context, ln net.Listener) error {
	stopLog := r.log.start()
	defer stopLog()

	// base is the context of every connection: cancelling it ends the
	// upgraded ones, which Shutdown does not wait for.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           r,
		ReadHeaderTimeout: time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0), // what goes wrong is in the log lines
		BaseContext:       func(net.Listener) context.Context { return base },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ConnState: r.connState,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener{ln, r}) }()
	select {
	case err := <-served:
		return fmt.Errorf("router: serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	wait, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	if err := srv.Shutdown(wait); err != nil {
		srv.Close() // the requests still in flight are cut off
	}
	cancelBase()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("router: serving on %s: %w", ln.Addr(), err)
	}
	return nil
}

// listener wraps each connection it accepts in a conn.
type listener struct {
	net.Listener
	r *Router
}

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	w := &conn{Conn: c}
	w.ip, w.port = addrHost(c.RemoteAddr()), addrPort(c.LocalAddr())
	return w, nil
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

// connKey is the context key of a request's conn.
type connKey struct{}

// conn is a client connection. It keeps the client's address for the
// requests on it, and sees what net/http answers without calling the
// router (a request it could not parse): while no handler has run for the
// request being read, the status line and the bytes written are recorded,
// and the answer is logged when the request is over.
type conn struct {
	net.Conn
	ip, port string

	active  atomic.Bool  // a request is being read or served
	handled atomic.Bool  // the router's handler ran for it
	status  atomic.Int32 // the status net/http answered it with itself
	wrote   atomic.Int64 // bytes of that answer
}

func (c *conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if !c.handled.Load() && c.active.Load() {
		if c.status.Load() == 0 {
			c.status.Store(int32(statusOf(p)))
		}
		c.wrote.Add(int64(n))
	}
	return n, err
}

// statusOf reads the code of a status line "HTTP/1.1 400 ...", else 0.
func statusOf(p []byte) int {
	if len(p) < 12 || string(p[:5]) != "HTTP/" || p[8] != ' ' {
		return 0
	}
	s := 0
	for _, c := range p[9:12] {
		if c < '0' || c > '9' {
			return 0
		}
		s = s*10 + int(c-'0')
	}
	return s
}

// connState follows each connection from request to request (http.Server
// calls it from the connection's goroutine), and logs a request net/http
// answered itself.
func (r *Router) connState(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*conn)
	if !ok {
		return
	}
	switch s {
	case http.StateActive:
		c.handled.Store(false)
		c.status.Store(0)
		c.wrote.Store(0)
		c.active.Store(true)
	case http.StateIdle, http.StateClosed, http.StateHijacked:
		if !c.active.Swap(false) || c.handled.Load() {
			return
		}
		if st := c.status.Load(); st != 0 {
			r.log.add(&entry{code: badRequest, fwd: c.ip, connect: -1, service: -1, status: int(st), bytes: c.wrote.Load()})
		}
	}
}
