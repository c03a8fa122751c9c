package router

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Down says why an instance stopped serving.
type Down struct {
	Crashed bool   // it exited on its own (else it was stopped on purpose, e.g. "ganger stop web")
	Detail  string // for the error page: "exited with code 1", "killed by SIGKILL", "stopped by ganger stop"
}

// phase is where an instance is in its life.
type phase uint8

const (
	booting phase = iota + 1
	up
	down
)

// instance is one row of the table.
type instance struct {
	pid   int
	phase phase
	b     *backend // when up
	down  Down     // when down
}

// backend is an instance that is up: where to send its requests, and its
// own keep-alive connections.
type backend struct {
	name string
	host string // 127.0.0.1:port
	pool pool
}

// table is the backend table: a plain mutex over the rows, and an
// immutable list of the backends that are up, replaced at each change, for
// the request path to read without the lock.
type table struct {
	mu      sync.Mutex
	rows    map[string]*instance
	changed chan struct{} // closed at the next change; made when someone waits

	up   atomic.Pointer[[]*backend] // sorted by name
	next atomic.Uint64              // round robin

	// waiting, when set (by tests), is called when a request starts
	// waiting for an instance to boot.
	waiting func()
}

func newTable() *table {
	t := &table{rows: make(map[string]*instance)}
	t.up.Store(new([]*backend))
	return t
}

// Booting marks name as booting when it has no instance up; else it is
// ignored (a preboot successor: the current one keeps serving).
func (r *Router) Booting(name string, pid int) {
	t := r.table
	t.mu.Lock()
	defer t.mu.Unlock()
	if in := t.rows[name]; in != nil && in.phase == up {
		return
	}
	t.rows[name] = &instance{pid: pid, phase: booting}
	t.changedLocked(false)
}

// Up routes name's requests to pid on 127.0.0.1:port from now on,
// replacing what name had (the preboot switch). Requests already sent to
// the old process finish there.
func (r *Router) Up(name string, pid, port int) {
	t := r.table
	b := &backend{name: name, host: "127.0.0.1:" + strconv.Itoa(port)}
	t.mu.Lock()
	old := t.rows[name]
	t.rows[name] = &instance{pid: pid, phase: up, b: b}
	t.changedLocked(true)
	t.mu.Unlock()
	old.retire()
}

// Down takes name out of the rotation when pid is its current process,
// recording why; otherwise (an old process, or a successor that failed
// before its Up) it is ignored.
func (r *Router) Down(name string, pid int, d Down) {
	t := r.table
	t.mu.Lock()
	in := t.rows[name]
	if in == nil || in.pid != pid {
		t.mu.Unlock()
		return
	}
	t.rows[name] = &instance{pid: pid, phase: down, down: d}
	t.changedLocked(in.phase == up)
	t.mu.Unlock()
	in.retire()
}

// Forget removes name from the table: it is gone from the formation.
func (r *Router) Forget(name string) {
	t := r.table
	t.mu.Lock()
	in := t.rows[name]
	if in == nil {
		t.mu.Unlock()
		return
	}
	delete(t.rows, name)
	t.changedLocked(in.phase == up)
	t.mu.Unlock()
	in.retire()
}

// retire closes the connections of the backend in was, if it was up: no
// new request goes to it (see pool.retire). in may be nil.
func (in *instance) retire() {
	if in != nil && in.b != nil {
		in.b.pool.retire()
	}
}

// changedLocked publishes a change: the new list of backends when the set
// that is up changed, and a wake-up for the requests waiting on a boot.
func (t *table) changedLocked(upChanged bool) {
	if upChanged {
		var list []*backend
		for _, in := range t.rows {
			if in.phase == up {
				list = append(list, in.b)
			}
		}
		slices.SortFunc(list, func(a, b *backend) int { return strings.Compare(a.name, b.name) })
		t.up.Store(&list)
	}
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
}

// pick returns the backends that are up and the index of the next one in
// the rotation; the list is empty when none is.
func (t *table) pick() ([]*backend, int) {
	list := *t.up.Load()
	if len(list) == 0 {
		return nil, 0
	}
	return list, int((t.next.Add(1) - 1) % uint64(len(list)))
}

// replaced reports whether b's instance is up on another backend now: a
// preboot switch took place since b was picked.
func (t *table) replaced(b *backend) bool {
	for _, c := range *t.up.Load() {
		if c.name == b.name {
			return c != b
		}
	}
	return false
}

// another returns the backend to try after those tried failed: the one
// the instance of the last tried is up on now when it was not tried (its
// replacement), else the next one up in the rotation that was not; nil
// when every one was.
func (t *table) another(tried []*backend) *backend {
	list := *t.up.Load()
	last := tried[len(tried)-1]
	for _, b := range list {
		if b.name == last.name && !slices.Contains(tried, b) {
			return b
		}
	}
	if len(list) == 0 {
		return nil
	}
	start := t.next.Add(1) - 1
	for k := range uint64(len(list)) {
		if b := list[(start+k)%uint64(len(list))]; !slices.Contains(tried, b) {
			return b
		}
	}
	return nil
}

// prune closes the connections to the backends up that have been idle
// since before t, or all of them. Those of the others were closed when
// they were retired.
func (t *table) prune(before time.Time, all bool) {
	for _, b := range *t.up.Load() {
		b.pool.prune(before, all)
	}
}

// row is an instance as an error page shows it.
type row struct {
	name   string
	phase  phase
	detail string
}

// await waits until an instance is up (returning the list and the next
// index), or there is nothing to wait for. It returns H10 when every known
// instance crashed, H14 when none is booting and not all crashed (or there
// are none), H20 when one is booting at the deadline, and H27 when ctx
// ends first; rows are the table as it was then, for the error page.
func (t *table) await(ctx context.Context, deadline time.Time) (list []*backend, i int, c code, rows []row) {
	var timer *time.Timer
	for {
		if list, i := t.pick(); list != nil {
			return list, i, 0, nil
		}
		t.mu.Lock()
		if list := *t.up.Load(); len(list) > 0 {
			t.mu.Unlock()
			continue
		}
		rows = t.rowsLocked()
		isBooting, allCrashed := false, len(rows) > 0
		for _, r := range rows {
			isBooting = isBooting || r.phase == booting
			allCrashed = allCrashed && r.phase == down && t.rows[r.name].down.Crashed
		}
		if !isBooting {
			t.mu.Unlock()
			if allCrashed {
				return nil, 0, h10, rows
			}
			return nil, 0, h14, rows
		}
		if t.changed == nil {
			t.changed = make(chan struct{})
		}
		changed := t.changed
		t.mu.Unlock()

		if timer == nil {
			if t.waiting != nil {
				t.waiting()
			}
			timer = time.NewTimer(time.Until(deadline))
			defer timer.Stop()
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, 0, h20, rows
		case <-ctx.Done():
			return nil, 0, h27, rows
		}
	}
}

// rowsLocked is the table sorted by name.
func (t *table) rowsLocked() []row {
	rows := make([]row, 0, len(t.rows))
	for name, in := range t.rows {
		rows = append(rows, row{name: name, phase: in.phase, detail: in.down.Detail})
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.name, b.name) })
	return rows
}

// detail is name's last exit when it is down now, else "".
func (t *table) detail(name string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if in := t.rows[name]; in != nil && in.phase == down {
		return in.down.Detail
	}
	return ""
}
