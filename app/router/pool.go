package router

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"
)

// maxIdlePerBackend bounds the idle connections kept to one instance.
const maxIdlePerBackend = 1024

// idleTimeout is how long an idle connection to an app is kept.
const idleTimeout = 90 * time.Second

// appConn is a connection to an app.
type appConn struct {
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	b      *backend  // the instance it goes to
	reused bool      // it served a request before
	idleAt time.Time // when it went back to the pool
}

// pool is one backend's keep-alive connections that are idle, most
// recently used first out. Each instance has its own, so that it can be
// closed once the instance is replaced or down (see retire).
type pool struct {
	mu      sync.Mutex
	idle    []*appConn
	retired bool // replaced, down or forgotten: nothing goes back
}

// getConn returns an idle connection to b, or a new one. An idle one is
// first checked for having been closed by the app, or having bytes on it
// that no request asked for (which would be taken for the response).
func (r *Router) getConn(ctx context.Context, b *backend) (*appConn, error) {
	p := &b.pool
	for {
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			break
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if !alive(c.nc) {
			c.nc.Close()
			continue
		}
		c.reused = true
		return c, nil
	}
	return r.dialConn(ctx, b)
}

// dialConn makes a new connection to b.
func (r *Router) dialConn(ctx context.Context, b *backend) (*appConn, error) {
	nc, err := r.dial(ctx, "tcp", b.host)
	if err != nil {
		return nil, err
	}
	return &appConn{nc: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 4096), b: b}, nil
}

// putConn gives c back to its backend's pool for another request, or
// closes it when the backend is retired (an old process that stops waits
// for no connection of the router's) or when the app sent more than its
// response (which the next request would take for its own).
func putConn(c *appConn) {
	c.idleAt = time.Now()
	p := &c.b.pool
	p.mu.Lock()
	if p.retired || len(p.idle) >= maxIdlePerBackend || c.br.Buffered() > 0 {
		p.mu.Unlock()
		c.nc.Close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// retire closes the pool's idle connections and has those still in use
// closed as their requests end (putConn). A process stopped after a
// preboot switch would otherwise keep waiting for connections the router
// will never use again: a Go app's Shutdown waits for idle ones too, up to
// its own deadline, and the grace period before a SIGKILL may be as short.
func (p *pool) retire() {
	p.mu.Lock()
	p.retired = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
}

// prune closes the connections idle since before t, or all of them.
func (p *pool) prune(t time.Time, all bool) {
	var old []*appConn
	p.mu.Lock()
	keep := p.idle[:0]
	for _, c := range p.idle {
		if all || c.idleAt.Before(t) {
			old = append(old, c)
		} else {
			keep = append(keep, c)
		}
	}
	clear(p.idle[len(keep):])
	p.idle = keep
	p.mu.Unlock()
	for _, c := range old {
		c.nc.Close()
	}
}
