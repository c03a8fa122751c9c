package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// AttachBuffer is how many bytes of a process's output an Attachment holds
// for a reader that has not read them yet. The process's reader never waits
// for an attachment: when one falls this far behind, its oldest bytes are
// dropped (Attachment.Dropped counts them), as a terminal's scrollback
// forgets its oldest lines, and it stays attached. A slow attacher thus
// never slows the process or the Sink, and a burst of output costs it a gap,
// not the session.
const AttachBuffer = 1 << 20

// term is the pseudo-terminal of one run of a process: its master, through
// which input is written and the size set, and the tap that copies every
// byte read from it to the attachments, before the bytes are split into
// lines for the Sink. Several goroutines use it: the reader feeds it, the
// supervisor ends it, attachments write, resize and detach; a mutex guards
// the set of attachments.
type term struct {
	name string
	f    *os.File // the master; the reader closes it once the output has ended

	mu    sync.Mutex
	subs  map[*Attachment]struct{}
	ended bool
}

func newTerm(name string, f *os.File) *term {
	return &term{name: name, f: f, subs: map[*Attachment]struct{}{}}
}

// write copies p, just read from the master, to every attachment. It never
// blocks on one.
func (t *term) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for a := range t.subs {
		a.put(p)
	}
}

// end ends every attachment's output (each Read returns io.EOF once what it
// holds is read) and refuses new ones: this run of the process is over. It
// may be called more than once.
func (t *term) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended = true
	for a := range t.subs {
		a.finish()
	}
	clear(t.subs)
}

// attach adds an attachment. On a terminal whose output has ended it is
// ended at once.
func (t *term) attach() *Attachment {
	a := &Attachment{t: t, wake: make(chan struct{}, 1)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		a.ended = true
	} else {
		t.subs[a] = struct{}{}
	}
	return a
}

func (t *term) detach(a *Attachment) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.subs, a)
}

// Attachment connects a caller to the pseudo-terminal of one run of a
// process (see Supervisor.Attach): Read returns what the process writes from
// now on, Write is typed input, Resize resizes its terminal. Its methods may
// be called from any goroutine; Read and Write are meant each for one.
type Attachment struct {
	t    *term
	wake chan struct{} // a token when there is something new for Read

	mu      sync.Mutex
	ring    []byte // held output, n bytes from head, wrapping
	head, n int
	dropped int64
	ended   bool // the output has ended: Read returns io.EOF once empty
	closed  bool // Close was called: Read returns io.EOF at once
}

// Name is the process's instance name, such as "web.1".
func (a *Attachment) Name() string { return a.t.name }

// Read reads the process's output, the raw bytes read from its terminal:
// CR LF line ends, escape sequences, and partial lines such as a prompt are
// as the process wrote them. It waits for output, and returns io.EOF once
// this run of the process has ended and its output is read, or once the
// attachment is closed.
func (a *Attachment) Read(p []byte) (int, error) {
	for {
		a.mu.Lock()
		switch {
		case a.closed:
			a.mu.Unlock()
			return 0, io.EOF
		case a.n > 0:
			n := a.take(p)
			a.mu.Unlock()
			return n, nil
		case a.ended:
			a.mu.Unlock()
			return 0, io.EOF
		}
		a.mu.Unlock()
		<-a.wake
	}
}

// Write sends p to the process's terminal, as if typed. It waits while the
// terminal's input buffer is full (the process does not read).
func (a *Attachment) Write(p []byte) (int, error) {
	a.mu.Lock()
	closed := a.closed
	a.mu.Unlock()
	if closed {
		return 0, fmt.Errorf("write to %s: %w", a.t.name, io.ErrClosedPipe)
	}
	n, err := a.t.f.Write(p)
	if errors.Is(err, os.ErrClosed) {
		return n, fmt.Errorf("write to %s: its terminal is closed (the process has exited): %w", a.t.name, io.ErrClosedPipe)
	}
	return n, err
}

// Resize sets the size of the process's terminal; the system sends SIGWINCH
// to its foreground process group.
func (a *Attachment) Resize(cols, rows int) error {
	if cols <= 0 || cols > 0xffff || rows <= 0 || rows > 0xffff {
		return fmt.Errorf("resize the terminal of %s to %dx%d: want 1 to 65535 columns and rows", a.t.name, cols, rows)
	}
	rc, err := a.t.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("resize the terminal of %s: %w", a.t.name, err)
	}
	ws := &unix.Winsize{Col: uint16(cols), Row: uint16(rows)}
	cerr := rc.Control(func(fd uintptr) { err = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) })
	if err = errors.Join(cerr, err); err != nil {
		return fmt.Errorf("resize the terminal of %s to %dx%d: %w", a.t.name, cols, rows, err)
	}
	return nil
}

// Close detaches: a waiting Read returns io.EOF. The process keeps running
// and its output keeps going to the Sink. It is safe to call more than once.
func (a *Attachment) Close() error {
	a.t.detach(a)
	a.mu.Lock()
	a.closed = true
	a.ring = nil
	a.n = 0
	a.mu.Unlock()
	a.signal()
	return nil
}

// Dropped returns how many bytes of output were dropped because the reader
// fell more than AttachBuffer bytes behind.
func (a *Attachment) Dropped() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped
}

func (a *Attachment) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// finish marks the output ended; the caller holds t.mu.
func (a *Attachment) finish() {
	a.mu.Lock()
	a.ended = true
	a.mu.Unlock()
	a.signal()
}

// put appends p to the held output, dropping the oldest bytes beyond
// AttachBuffer. Its cost is that of copying p: the ring grows to
// AttachBuffer at most and never moves what it holds once full.
func (a *Attachment) put(p []byte) {
	if len(p) == 0 {
		return
	}
	a.mu.Lock()
	defer a.signal()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if len(p) >= AttachBuffer {
		a.dropped += int64(a.n + len(p) - AttachBuffer)
		p = p[len(p)-AttachBuffer:]
		a.head, a.n = 0, 0
	}
	if need := a.n + len(p); need > len(a.ring) && len(a.ring) < AttachBuffer {
		size := max(4<<10, len(a.ring))
		for size < need && size < AttachBuffer {
			size *= 2
		}
		size = min(size, AttachBuffer)
		ring := make([]byte, size)
		a.copyOut(ring[:a.n])
		a.ring, a.head = ring, 0
	}
	if over := a.n + len(p) - len(a.ring); over > 0 {
		a.dropped += int64(over)
		a.head = (a.head + over) % len(a.ring)
		a.n -= over
	}
	tail := (a.head + a.n) % len(a.ring)
	c := copy(a.ring[tail:], p)
	copy(a.ring, p[c:])
	a.n += len(p)
}

// copyOut copies the first len(p) held bytes to p, without taking them.
func (a *Attachment) copyOut(p []byte) {
	c := copy(p, a.ring[a.head:min(a.head+len(p), len(a.ring))])
	copy(p[c:], a.ring)
}

// take moves up to len(p) held bytes to p.
func (a *Attachment) take(p []byte) int {
	n := min(len(p), a.n)
	a.copyOut(p[:n])
	a.head = (a.head + n) % len(a.ring)
	a.n -= n
	if a.n == 0 {
		a.head = 0
	}
	return n
}

// attachHint says how to get a process a terminal that takes input. A
// foreground start's --tty gives terminals without input: its own stdin is
// the user's.
const attachHint = "set tty: true for it in ganger.yml, or start ganger detached from a terminal (ganger start -D)"

// Attach connects to the pseudo-terminal of the running process name (an
// instance name such as "web.1"), from now on: see Attachment. The process
// must run on a terminal that takes input (Spec.TTY with Input). Any number
// of attachments may be open at once; each gets all the output, and their
// input interleaves.
func (s *Supervisor) Attach(ctx context.Context, name string) (*Attachment, error) {
	var a *Attachment
	err := s.do(ctx, func(r *run) (func() bool, error) {
		var err error
		a, err = r.attach(name)
		return nil, err
	})
	return a, err
}

// attach is Supervisor.Attach on the supervisor goroutine.
func (r *run) attach(name string) (*Attachment, error) {
	var p *proc
	var names, ofType []string
	for _, q := range r.procs {
		names = append(names, q.spec.Name)
		if q.spec.Name == name {
			p = q
		}
		if q.spec.typ() == name {
			ofType = append(ofType, q.spec.Name)
		}
	}
	switch {
	case p == nil && len(ofType) > 0:
		return nil, fmt.Errorf("%s is a process type; attach to one of its instances: %s", name, strings.Join(ofType, ", "))
	case p == nil:
		return nil, fmt.Errorf("unknown process %q; known: %s", name, strings.Join(names, ", "))
	case !p.waiting:
		state := p.state
		if state == stateNew {
			state = StateWaiting
		}
		return nil, fmt.Errorf("%s is not running (%s); hint: ganger restart %s", name, state, name)
	case p.spec.TTY == nil || p.term == nil:
		return nil, fmt.Errorf("%s does not run on a terminal; hint: %s", name, attachHint)
	case !p.spec.TTY.Input:
		return nil, fmt.Errorf("%s runs on a terminal that does not take input (its stdin is /dev/null); hint: %s", name, attachHint)
	}
	return p.term.attach(), nil
}
