package router

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"
)

// maxIdlePerHost bounds the idle connections kept to one app port.
const maxIdlePerHost = 1024

// idleTimeout is how long an idle connection to an app is kept.
const idleTimeout = 90 * time.Second

// appConn is a connection to an app.
type appConn struct {
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	host   string
	reused bool      // it served a request before
	idleAt time.Time // when it went back to the pool
}

// pool keeps idle connections to the apps, per host:port, most recently
// used first out.
type pool struct {
	dialer net.Dialer
	mu     sync.Mutex
	idle   map[string][]*appConn
}

func newPool(timeout time.Duration) *pool {
	return &pool{dialer: net.Dialer{Timeout: timeout}, idle: make(map[string][]*appConn)}
}

// get returns an idle connection to host, or a new one. With check, an
// idle one is first checked for having been closed by the app (for a
// request whose body could not be sent again).
func (p *pool) get(ctx context.Context, host string, check bool) (*appConn, error) {
	for {
		p.mu.Lock()
		list := p.idle[host]
		if len(list) == 0 {
			p.mu.Unlock()
			break
		}
		c := list[len(list)-1]
		list[len(list)-1] = nil
		p.idle[host] = list[:len(list)-1]
		p.mu.Unlock()
		if check && !alive(c.nc) {
			c.nc.Close()
			continue
		}
		c.reused = true
		return c, nil
	}
	return p.dial(ctx, host)
}

// dial makes a new connection to host.
func (p *pool) dial(ctx context.Context, host string) (*appConn, error) {
	nc, err := p.dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	return &appConn{nc: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 4096), host: host}, nil
}

// put gives c back for another request.
func (p *pool) put(c *appConn) {
	c.idleAt = time.Now()
	p.mu.Lock()
	list := p.idle[c.host]
	if len(list) >= maxIdlePerHost {
		p.mu.Unlock()
		c.nc.Close()
		return
	}
	p.idle[c.host] = append(list, c)
	p.mu.Unlock()
}

// prune closes the connections idle since before t, or all of them.
func (p *pool) prune(t time.Time, all bool) {
	var old []*appConn
	p.mu.Lock()
	for host, list := range p.idle {
		keep := list[:0]
		for _, c := range list {
			if all || c.idleAt.Before(t) {
				old = append(old, c)
			} else {
				keep = append(keep, c)
			}
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(p.idle, host)
		} else {
			p.idle[host] = keep
		}
	}
	p.mu.Unlock()
	for _, c := range old {
		c.nc.Close()
	}
}
