package runner

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strconv"
	"time"
)

// lineProbe passes lines on and reports the first one that matches re,
// once it has passed it on: whoever acts on the process being ready (a
// detached start's caller stops showing the output then) has it. It runs
// on the process's reader goroutine.
type lineProbe struct {
	w     LineWriter
	re    *regexp.Regexp
	fire  func(line string)
	fired bool
}

func (l *lineProbe) WriteLines(p []byte) error {
	if l.fired {
		return l.w.WriteLines(p)
	}
	var match string
	found := false
	for rest := p; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		line := rest[:i]
		rest = rest[i+1:]
		if l.re.Match(line) {
			match, found = string(line), true
			break
		}
	}
	err := l.w.WriteLines(p)
	if found {
		l.fired = true
		l.fire(match)
	}
	return err
}

// probePort tries port on the loopback addresses until one accepts a
// connection, then reports p ready. A listening socket announces itself to
// nobody, so this is the one poll in the supervisor: every ProbeInterval,
// until ctx ends (the process exited or became ready another way).
func (r *run) probePort(ctx context.Context, p *proc, gen, port int) {
	addrs := []string{
		net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		net.JoinHostPort("::1", strconv.Itoa(port)),
	}
	d := net.Dialer{Timeout: 250 * time.Millisecond}
	t := time.NewTicker(r.s.opts.ProbeInterval)
	defer t.Stop()
	for {
		for _, a := range addrs {
			c, err := d.DialContext(ctx, "tcp", a)
			if err == nil {
				c.Close()
				r.sendReady(readyMsg{p: p, gen: gen, at: time.Now(), port: port})
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
