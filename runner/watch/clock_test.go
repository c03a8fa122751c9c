package watch

import (
	"context"
	"slices"
	"sync"
	"time"
)

// fakeClock is a clock whose time moves only in Advance. A timer that
// becomes due fires in Advance, which returns only once the tick has been
// received (or discarded by a Reset or Stop meanwhile, as Go's timers do):
// when Advance returns, the Run goroutine has the ticks that the time
// brought, and a later inspect sees what it made of them. Each Now, Reset
// and Stop is signalled on touched, so that a test can wait for the watcher
// to have handled a change (each arms the timer) without sleeping.
type fakeClock struct {
	touched chan struct{} // signalled, never blocking, at each Now, Reset and Stop

	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c  *fakeClock
	ch chan time.Time // unbuffered: Advance hands each tick over

	// Guarded by c.mu.
	when   time.Time
	armed  bool
	cancel chan struct{} // closed by Reset and Stop: a tick being handed over is discarded
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_000_000, 0), touched: make(chan struct{}, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	now := c.now
	c.mu.Unlock()
	c.touch()
	return now
}

func (c *fakeClock) NewTimer(d time.Duration) timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time), cancel: make(chan struct{})}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return t
}

func (c *fakeClock) touch() {
	select {
	case c.touched <- struct{}{}:
	default:
	}
}

// Advance moves the time on by d and fires the timers that are due by then
// (one due already fires at the next Advance, Advance(0) included).
func (c *fakeClock) Advance(d time.Duration) {
	type firing struct {
		t      *fakeTimer
		cancel chan struct{}
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	var due []firing
	for _, t := range c.timers {
		if t.armed && !t.when.After(now) {
			t.armed = false
			due = append(due, firing{t, t.cancel})
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		select {
		case f.t.ch <- now:
		case <-f.cancel:
		}
	}
}

// armed reports whether a timer is set to fire.
func (c *fakeClock) armed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.timers, func(t *fakeTimer) bool { return t.armed })
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Reset(d time.Duration) { t.set(d, true) }

func (t *fakeTimer) Stop() { t.set(0, false) }

func (t *fakeTimer) set(d time.Duration, armed bool) {
	c := t.c
	c.mu.Lock()
	close(t.cancel)
	t.cancel = make(chan struct{})
	t.when, t.armed = c.now.Add(d), armed
	c.mu.Unlock()
	c.touch()
}

// state returns the paths that wait for quiet and the batch cut but not
// yet taken, from the Run goroutine.
func (h *harness) state() (pending []string, ready *Batch) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	err := h.w.inspect(ctx, func(b *burst) {
		for p := range b.pending {
			pending = append(pending, p)
		}
		slices.Sort(pending)
		if b.ready != nil {
			r := *b.ready
			ready = &r
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return pending, ready
}

// waitHandled waits until Run has handled the changes to rels: each is
// pending or in a batch cut. It looks again at each of the clock's signals,
// as every change (re)arms the timer, asking the time first; so a watcher
// that takes a change without either fails here, at the deadline.
func (h *harness) waitHandled(clk *fakeClock, rels ...string) {
	h.t.Helper()
	timeout := time.NewTimer(deadline) // turns a hang into a failure
	defer timeout.Stop()
	for {
		pending, ready := h.state()
		handled := func(p string) bool {
			_, found := slices.BinarySearch(pending, p)
			return found || ready != nil && slices.Contains(ready.Paths, p)
		}
		i := slices.IndexFunc(rels, func(p string) bool { return !handled(p) })
		if i < 0 {
			return
		}
		select {
		case <-clk.touched:
		case <-timeout.C:
			h.t.Fatalf("%s not pending after the last use of the clock, %v ago; %d paths pending: the change was not seen, or did not arm the timer",
				rels[i], deadline, len(pending))
		}
	}
}

// wantNothingMore checks that no batch is waiting, nothing is pending and
// no timer is set: no other batch can come without a new change.
func (h *harness) wantNothingMore(clk *fakeClock) {
	h.t.Helper()
	pending, ready := h.state()
	if ready != nil {
		h.t.Errorf("a second batch %q, want exactly one", ready.Paths[:min(3, len(ready.Paths))])
	}
	if len(pending) > 0 || clk.armed() {
		h.t.Errorf("%d paths pending (timer armed: %v) after the batch, want none", len(pending), clk.armed())
	}
}
