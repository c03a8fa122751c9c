package runner

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// State is where a process is in its life, as Status reports it.
type State string

// The states of a process. The set may grow.
const (
	stateNew        State = ""            // not started yet
	StateWaiting    State = "waiting"     // for the processes named in its After
	StateRunning    State = "running"     // its leader runs
	StateStopping   State = "stopping"    // it was sent its stop signal; its group is not empty yet
	StateStopped    State = "stopped"     // stopped on request; Restart starts it
	StateExited     State = "exited"      // exited with code 0 and is not restarted
	StateCrashed    State = "crashed"     // exited non-zero or was killed, and is not restarted
	StateBackingOff State = "backing-off" // exited, and is started again after a delay
)

// Status is one process as the supervisor sees it.
type Status struct {
	Name     string
	Type     string
	State    State
	PID      int       // while it runs, else 0
	Port     int       // its PORT, 0 if none
	Started  time.Time // when the current run started; zero when not running
	Ready    bool      // up, as its Spec.Ready defines
	Restarts int       // times started again after the first start
	Exited   bool      // it has exited at least once: Code and Signal tell how
	Code     int       // the last exit's code, 128+n for signal n
	Signal   syscall.Signal
}

// action is what happens to a process once its process group is empty.
type action int

const (
	thenNothing action = iota // the formation is stopping
	thenStart                 // start it again (restart)
	thenStop                  // leave it stopped
	thenRemove                // forget it (gone from the formation)
	thenBackoff               // start it again after the backoff
	thenDown                  // leave it exited or crashed
	thenRetire                // forget it: its preboot successor took over
	thenDiscard               // forget it: a preboot successor that failed its boot
)

// proc is one process as the supervisor goroutine sees it.
type proc struct {
	spec      Spec
	next      *Spec // replaces spec at the next start (Update)
	line      *regexp.Regexp
	state     State
	gen       int // counts starts; tags what belongs to one run of it
	pid       int // of the current or last run; 0 when never started
	waiting   bool
	groupGone bool
	started   time.Time
	ready     bool
	restarts  int
	exited    bool
	code      int
	signal    syscall.Signal
	exits     []time.Time // recent automatic restarts, for the give-up rule
	delay     time.Duration
	then      action
	timer     *time.Timer
	tgen      int // counts timers; a fired timer of another tgen is stale
	stopProbe context.CancelFunc
	waitNoted bool
	removed   bool
	succ      *proc // a preboot successor booting beside it
	pred      *proc // on a preboot successor: the process it is to replace
	again     *Spec // a preboot asked for while another was under way
	term      *term // the terminal of the current or last run; nil on a pipe
}

func newProc(spec Spec) *proc {
	p := &proc{groupGone: true}
	p.setSpec(spec)
	return p
}

func (p *proc) setSpec(spec Spec) {
	p.spec = spec
	p.next = nil
	p.line = nil
	if spec.Ready.Line != "" {
		p.line = regexp.MustCompile(spec.Ready.Line) // checked by checkSpecs
	}
}

// typ is the process type: Spec.Type, else the name up to its last dot.
func (s Spec) typ() string {
	if s.Type != "" {
		return s.Type
	}
	if i := strings.LastIndexByte(s.Name, '.'); i > 0 {
		return s.Name[:i]
	}
	return s.Name
}

func (p *proc) stopTimer() {
	p.tgen++
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// setTimer arms p's one timer; it reports on r.timers.
func (r *run) setTimer(p *proc, d time.Duration, kind timerKind) {
	p.stopTimer()
	tgen := p.tgen
	p.timer = time.AfterFunc(d, func() {
		select {
		case r.timers <- timerMsg{p: p, tgen: tgen, kind: kind}:
		case <-r.quit:
		}
	})
}

// start launches p, unless what it waits for is not ready yet.
func (r *run) start(p *proc) {
	if p.next != nil {
		p.setSpec(*p.next)
	}
	if missing := r.unready(p); len(missing) > 0 && p.pred == nil {
		p.state = StateWaiting
		if !p.waitNoted {
			p.waitNoted = true
			r.system("%s waits for %s", p.spec.Name, strings.Join(missing, ", "))
		}
		return
	}
	p.waitNoted = false
	p.gen++
	p.state = StateRunning
	p.ready = false
	p.started = time.Now()
	if err := r.launch(p); err != nil {
		p.groupGone = true
		p.pid = 0
		r.event(Event{Kind: StartFailed, Name: p.spec.Name, Err: err})
		p.exited, p.code, p.signal = true, exitCodeForStartError(err), 0
		r.ownExit(p, true)
		return
	}
	if p.spec.Ready.IsZero() {
		p.ready = true
		if p.pred != nil {
			r.event(Event{Kind: Ready, Name: p.spec.Name, PID: p.pid, Port: p.spec.Port})
			r.switchTo(p)
		}
		r.startWaiting()
	}
}

// launch starts p's process, its output reader, its waiter and its probe.
func (r *run) launch(p *proc) error {
	out, err := openOutput(p.spec)
	if err != nil {
		return err
	}
	null, err := r.devNull()
	if err != nil {
		out.child.Close()
		out.r.Close()
		return err
	}
	pid, pidfd, err := startProcess(r.sp, p.spec, out.attr(p.spec, null), r.ew != nil)
	out.started()
	if err != nil {
		out.r.Close()
		return err
	}
	gen := p.gen
	p.pid = pid
	p.waiting = true
	p.groupGone = false
	ctl := newReadCtl(out.r)
	r.addReader(ctl)
	if wd := r.s.opts.Watchdog; wd != nil {
		wd.Add(p.pid)
	}
	r.event(Event{Kind: Started, Name: p.spec.Name, PID: p.pid})

	var tap *term
	if out.tty {
		tap = newTerm(p.spec.Name, out.master)
	}
	p.term = tap
	lw := out.lines(r.s.opts.Sink.Lines(p.spec.Name))
	if p.line != nil {
		lw = &lineProbe{w: lw, re: p.line, fire: func(line string) {
			r.sendReady(readyMsg{p: p, gen: gen, at: time.Now(), line: line})
		}}
	}
	if p.spec.Ready.Port && p.spec.Port > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		p.stopProbe = cancel
		go r.probePort(ctx, p, gen, p.spec.Port)
	}
	j := &exitJoin{r: r, p: p, ctl: ctl}
	go func() {
		defer j.outputEnded()
		defer close(ctl.done)
		defer out.r.Close()
		if tap != nil {
			defer tap.end()
		}
		failed := func(err error) {
			select {
			case r.sinkErr <- err:
			default:
			}
		}
		c := newLineCopier(out.r, &r.bufs, lw, failed, ctl)
		c.tap = tap
		c.run()
	}()
	// The exit watch tells when the process has exited; it is then reaped
	// at once, on the watch's goroutine. Without the watch a goroutine
	// waits for it.
	exited := func() { j.exited(reap(pid)) }
	if pidfd < 0 || !r.ew.add(pidfd, exited) {
		go func() {
			waitChild(pid, pidfd)
			exited()
		}()
	}
	return nil
}

// outputGrace is how long the report of an exit waits for the end of the
// output of a process whose reader cannot be asked to catch up (a terminal
// off Linux): a background child may hold the output open for much longer.
const outputGrace = 100 * time.Millisecond

// exitJoin reports a process's exit to the supervisor once its reader has
// handed on everything the process wrote, so that its last lines come before
// its exit, however slow the Sink. That is when the output has been read to
// the end or, when a descendant still holds it open, once the reader has
// read out what the pipe held after the exit (everything the process wrote
// is in the pipe by then) and delivered it, a last partial line included.
// The exit and the reader's news arrive on different goroutines, in either
// order; whichever completes the pair sends the report, once.
type exitJoin struct {
	r   *run
	p   *proc
	ctl *readCtl

	mu     sync.Mutex
	status syscall.WaitStatus
	ok     bool // status is known
	done   bool // the process has exited and been reaped
	ended  bool // the output has been read to the end
	sent   bool
	grace  *time.Timer // only for a reader that cannot be asked to catch up
}

// exited records the reaped process's status.
func (j *exitJoin) exited(status syscall.WaitStatus, ok bool) {
	j.mu.Lock()
	j.status, j.ok, j.done = status, ok, true
	ended := j.ended
	j.mu.Unlock()
	if ended {
		j.send()
		return
	}
	// The reader reports once it has caught up, or its end does
	// (outputEnded) if it comes first.
	if j.ctl.catchUp(j.send) {
		return
	}
	j.mu.Lock()
	if !j.ended {
		j.grace = time.AfterFunc(outputGrace, j.send)
		j.mu.Unlock()
		return
	}
	j.mu.Unlock()
	j.send()
}

// outputEnded records that the reader has returned.
func (j *exitJoin) outputEnded() {
	j.mu.Lock()
	j.ended = true
	done := j.done
	if j.grace != nil {
		j.grace.Stop()
	}
	j.mu.Unlock()
	if done {
		j.send()
	}
}

// send reports the exit, unless it has been.
func (j *exitJoin) send() {
	j.mu.Lock()
	if j.sent {
		j.mu.Unlock()
		return
	}
	j.sent = true
	m := exitMsg{p: j.p, status: j.status, ok: j.ok}
	j.mu.Unlock()
	select {
	case j.r.exits <- m:
	case <-j.r.quit:
	}
}

func (r *run) sendReady(m readyMsg) {
	select {
	case r.readys <- m:
	case <-r.quit:
	}
}

// leaderExited records a leader's exit and decides what comes next.
func (r *run) leaderExited(m exitMsg) {
	p := m.p
	p.waiting = false
	if p.stopProbe != nil {
		p.stopProbe()
		p.stopProbe = nil
	}
	p.exited = true
	p.code, p.signal = exitStatus(m.status, m.ok)
	if p.term != nil {
		// Its output up to the exit has been read (see exitJoin): the
		// attachments have it all, and this run is over for them.
		p.term.end()
	}
	asked := r.stopping || p.state == StateStopping
	r.event(Event{Kind: Exited, Name: p.spec.Name, PID: p.pid, Code: p.code, Signal: p.signal, Asked: asked})
	switch {
	case r.stopping:
		// The formation's ladder takes care of the rest. Whether the group
		// is empty is asked now, while the others are still stopping,
		// rather than for every group once the last has exited.
		r.groupLeft(p)
	case p.state == StateStopping:
		r.checkGone()
	default:
		r.ownExit(p, false)
	}
	// Orphans are reaped on SIGCHLD and before the run ends; scanning here
	// too made every exit cost a walk over every thread's children.
}

// ownExit decides about a process that exited without being asked to (or
// failed to start): restart it after a backoff, leave it down, or stop the
// formation.
func (r *run) ownExit(p *proc, startFailed bool) {
	if p.pred != nil {
		why := describeExit(p.code, p.signal)
		if startFailed {
			why = "could not be started"
		}
		r.bootFailed(p, why)
		return
	}
	success := p.code == 0 && p.signal == 0
	restart := false
	switch p.spec.Restart {
	case RestartAlways:
		restart = !p.spec.Oneshot || !success
	case RestartOnFailure:
		restart = !success
	}
	if restart {
		b := r.s.opts.Backoff
		now := time.Now()
		kept := p.exits[:0]
		for _, t := range p.exits {
			if now.Sub(t) < b.Window {
				kept = append(kept, t)
			}
		}
		p.exits = append(kept, now)
		if len(p.exits) < b.Limit {
			switch {
			case p.delay == 0 || now.Sub(p.started) > b.Window:
				p.delay = b.Initial
			default:
				p.delay = min(2*p.delay, b.Max)
			}
			r.system("restarting %s in %s (exit %d of %d within %s)", p.spec.Name, roundDuration(p.delay), len(p.exits), b.Limit, roundDuration(b.Window))
			p.then = thenBackoff
			r.reclaim(p)
			return
		}
		r.event(Event{Kind: System, GaveUp: p.spec.Name,
			Msg: fmt.Sprintf("giving up on %s: it exited %d times within %s", p.spec.Name, len(p.exits), roundDuration(b.Window))})
		p.exits = nil
		p.delay = 0
	}
	acceptable := p.spec.CanDie || (success && (p.spec.Oneshot || p.spec.Restart == RestartOnFailure))
	switch {
	case acceptable:
	case r.s.opts.KeepGoing:
		r.system("%s is down; the others keep running", p.spec.Name)
	default:
		reason := ""
		if startFailed {
			reason = fmt.Sprintf("%s failed to start", p.spec.Name)
		}
		r.beginShutdown(reason, p)
		return
	}
	p.then = thenDown
	r.reclaim(p)
}

// reclaim empties p's process group after its leader has exited on its own:
// what is left gets the stop signal, then SIGKILL after the grace period.
func (r *run) reclaim(p *proc) {
	if r.groupLeft(p) {
		p.state = StateStopping
		signalGroup(p.pid, p.spec.stopSignal())
		r.setTimer(p, r.s.opts.Timeout, timerGrace)
		return
	}
	r.afterGone(p)
}

// stopProc sends p its stop signal; then happens once its group is empty.
func (r *run) stopProc(p *proc, then action) {
	p.then = then
	if p.state == StateStopping {
		return // already on its way; the new action replaces the old
	}
	if !r.groupLeft(p) {
		r.afterGone(p)
		return
	}
	p.state = StateStopping
	signalGroup(p.pid, p.spec.stopSignal())
	r.setTimer(p, r.s.opts.Timeout, timerGrace)
}

// checkGone acts on every process whose leader is reaped and whose group
// has just become empty.
func (r *run) checkGone() {
	if r.stopping {
		return
	}
	for _, p := range append([]*proc(nil), r.every()...) {
		if p.pid == 0 || p.waiting || p.groupGone {
			continue
		}
		if !r.groupLeft(p) && p.state == StateStopping {
			r.afterGone(p)
		}
	}
}

// afterGone carries out p.then, now that p's group is empty.
func (r *run) afterGone(p *proc) {
	p.stopTimer()
	then := p.then
	p.then = thenNothing
	switch then {
	case thenStart:
		p.restarts++
		r.start(p)
	case thenStop:
		p.state = StateStopped
	case thenRemove:
		p.removed = true
		p.state = StateStopped
		for i, q := range r.procs {
			if q == p {
				r.procs = append(r.procs[:i:i], r.procs[i+1:]...)
				break
			}
		}
	case thenBackoff:
		p.state = StateBackingOff
		r.setTimer(p, p.delay, timerBackoff)
	case thenDown:
		if p.code == 0 && p.signal == 0 {
			p.state = StateExited
		} else {
			p.state = StateCrashed
		}
		r.startWaiting()
		r.checkAllDone()
	case thenRetire, thenDiscard:
		p.state = StateStopped
		r.shadow = slices.DeleteFunc(r.shadow, func(q *proc) bool { return q == p })
		if p.pred != nil {
			p.pred.succ = nil
			p.pred = nil
		}
		r.resumePending()
	case thenNothing:
		if p.state == StateStopping {
			p.state = StateStopped
		}
	}
}

// timerFired acts on the end of a grace period or a backoff.
func (r *run) timerFired(m timerMsg) {
	p := m.p
	if m.tgen != p.tgen || r.stopping {
		return
	}
	p.timer = nil
	switch m.kind {
	case timerGrace:
		if r.groupLeft(p) {
			r.system("sending SIGKILL to %s", p.spec.Name)
			signalGroup(p.pid, syscall.SIGKILL)
		}
	case timerBackoff:
		if p.state == StateBackingOff {
			p.restarts++
			r.start(p)
		}
	case timerBoot:
		if p.pred != nil && p.state == StateRunning && !p.ready {
			r.system("%s: the new version was not ready within %s; %s", p.spec.Name, roundDuration(p.spec.Preboot.bootTimeout()), r.stillServing(p.pred))
			r.stopProc(p, thenDiscard)
		}
	}
}

// becameReady records that a probe saw p up.
func (r *run) becameReady(m readyMsg) {
	p := m.p
	if m.gen != p.gen || p.state != StateRunning || p.ready || !p.waiting {
		return
	}
	p.ready = true
	if p.stopProbe != nil {
		p.stopProbe()
		p.stopProbe = nil
	}
	r.event(Event{Kind: Ready, Name: p.spec.Name, PID: p.pid, Port: m.port, Msg: m.line, Elapsed: m.at.Sub(p.started)})
	if p.pred != nil {
		r.switchTo(p)
	}
	r.startWaiting()
}

// unready lists the types p waits for that are not ready: every instance of
// each must be up and ready, or for a oneshot have exited with code 0.
func (r *run) unready(p *proc) []string {
	var out []string
	for _, t := range p.spec.After {
		for _, q := range r.procs {
			if q.spec.typ() != t || q == p {
				continue
			}
			ok := q.state == StateRunning && q.ready
			if q.spec.Oneshot {
				ok = q.state == StateExited
			}
			if !ok {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// startWaiting starts the processes whose wait is over.
func (r *run) startWaiting() {
	if r.stopping {
		return
	}
	for _, p := range append([]*proc(nil), r.procs...) {
		if p.state == StateWaiting && len(r.unready(p)) == 0 {
			r.start(p)
		}
	}
}

// checkAllDone ends the run when every process has finished on its own and
// none will start again (oneshots that succeeded, processes that may die):
// there is nothing left to supervise.
func (r *run) checkAllDone() {
	if r.stopping || r.s.opts.KeepGoing {
		return
	}
	for _, p := range r.procs {
		if p.state != StateExited && p.state != StateCrashed {
			return
		}
	}
	r.beginShutdown("every process has finished", nil)
}

// resolve turns names (instance names or types; none: all) into processes.
func (r *run) resolve(names []string) ([]*proc, error) {
	if len(names) == 0 {
		return append([]*proc(nil), r.procs...), nil
	}
	var out []*proc
	seen := map[*proc]bool{}
	for _, n := range names {
		found := false
		for _, p := range r.procs {
			if p.spec.Name == n || p.spec.typ() == n {
				found = true
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown process %q; known: %s", n, strings.Join(r.known(), ", "))
		}
	}
	return out, nil
}

// known lists the types and names that resolve accepts.
func (r *run) known() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range r.procs {
		for _, n := range []string{p.spec.typ(), p.spec.Name} {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// restart is Supervisor.Restart on the supervisor goroutine.
func (r *run) restart(names []string, reason string) (func() bool, error) {
	ps, err := r.resolve(names)
	if err != nil {
		return nil, err
	}
	because := ""
	if reason != "" {
		because = ": " + reason
	}
	gens := make([]int, len(ps))
	booted := make([]bool, len(ps))
	for i, p := range ps {
		gens[i] = p.gen
		p.exits, p.delay = nil, 0
		switch p.state {
		case StateRunning:
			if p.spec.Preboot != nil {
				spec := p.spec
				if p.next != nil {
					spec = *p.next
				}
				booted[i] = true
				r.preboot(p, spec, because)
				continue
			}
			r.system("restarting %s%s", p.spec.Name, because)
			r.stopProc(p, thenStart)
		case StateStopping:
			if p.then != thenRemove {
				p.then = thenStart
			}
		case StateStopped, StateExited, StateCrashed, StateBackingOff:
			p.stopTimer()
			r.system("starting %s%s", p.spec.Name, because)
			if p.gen > 0 {
				p.restarts++
			}
			r.start(p)
		}
	}
	return func() bool {
		for i, p := range ps {
			if booted[i] {
				if p.succ != nil || p.again != nil {
					return false
				}
				continue
			}
			if p.removed || p.state == StateWaiting {
				continue
			}
			if p.gen == gens[i] || p.state == StateStopping || p.state == StateBackingOff {
				return false
			}
		}
		return true
	}, nil
}

// stop is Supervisor.Stop on the supervisor goroutine.
func (r *run) stop(names []string) (func() bool, error) {
	ps, err := r.resolve(names)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		r.discard(p)
		switch p.state {
		case StateRunning:
			r.system("stopping %s", p.spec.Name)
			r.stopProc(p, thenStop)
		case StateStopping:
			if p.then != thenRemove {
				p.then = thenStop
			}
		case StateStopped:
		default:
			p.stopTimer()
			p.state = StateStopped
		}
	}
	return func() bool {
		for _, p := range ps {
			if !p.removed && p.state != StateStopped {
				return false
			}
		}
		return true
	}, nil
}

// update is Supervisor.Update on the supervisor goroutine.
func (r *run) update(specs []Spec, reason string) error {
	if err := checkSpecs(specs); err != nil {
		return err
	}
	because := ""
	if reason != "" {
		because = ": " + reason
	}
	old := map[string]*proc{}
	for _, p := range r.procs {
		old[p.spec.Name] = p
	}
	var order, added []*proc
	kept := map[*proc]bool{}
	for _, spec := range specs {
		p, ok := old[spec.Name]
		if !ok {
			p = newProc(spec)
			order = append(order, p)
			added = append(added, p)
			continue
		}
		kept[p] = true
		order = append(order, p)
		current := p.spec
		switch {
		case p.again != nil:
			current = *p.again
		case p.succ != nil:
			current = p.succ.spec
		case p.next != nil:
			current = *p.next
		}
		same := spec
		if spec.Preboot != nil && spec.Port != current.Port {
			same = spec.withPort(current.Port) // where it runs now
		}
		if reflect.DeepEqual(current, same) {
			continue
		}
		switch p.state {
		case StateWaiting, stateNew:
			p.setSpec(spec)
		case StateRunning:
			if spec.Preboot != nil {
				r.preboot(p, spec, because)
				continue
			}
			p.next = &spec
			r.system("restarting %s%s", p.spec.Name, because)
			r.stopProc(p, thenStart)
		case StateStopping:
			p.next = &spec // a stop on request stays one; anything else starts the new spec
			if p.then != thenStop {
				p.then = thenStart
			}
		case StateStopped:
			p.next = &spec // applies when it is started again
		default: // exited, crashed, backing off: try the new one now
			p.stopTimer()
			p.next = &spec
			p.exits, p.delay = nil, 0
			r.system("starting %s%s", p.spec.Name, because)
			if p.gen > 0 {
				p.restarts++
			}
			r.start(p)
		}
	}
	for _, p := range r.procs {
		if kept[p] {
			continue
		}
		r.discard(p)
		if p.state == StateRunning || p.state == StateStopping {
			if p.state == StateRunning {
				r.system("stopping %s%s", p.spec.Name, because)
			}
			order = append(order, p) // until its group is empty
			r.stopProc(p, thenRemove)
			continue
		}
		p.stopTimer()
		p.removed = true
	}
	r.procs = order
	for _, p := range added {
		if r.stopping {
			break
		}
		r.system("starting %s%s", p.spec.Name, because)
		r.start(p)
	}
	r.startWaiting()
	return nil
}

// status is Supervisor.Status on the supervisor goroutine.
func (r *run) status() []Status {
	out := make([]Status, 0, len(r.procs))
	for _, p := range r.procs {
		st := Status{
			Name: p.spec.Name, Type: p.spec.typ(), State: p.state, Port: p.spec.Port,
			Ready: p.ready && p.state == StateRunning, Restarts: p.restarts,
			Exited: p.exited, Code: p.code, Signal: p.signal,
		}
		if st.State == stateNew {
			st.State = StateWaiting
		}
		if p.waiting {
			st.PID = p.pid
			st.Started = p.started
		}
		out = append(out, st)
	}
	return out
}

// roundDuration shows d as "1s", "1.5s", "250ms".
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// preboot starts p's successor with spec on the other of its two ports,
// beside p; becameReady switches to it. While another boot is under way, or
// the port is still held by a process that is stopping, it is queued and
// started once that is over (resumePending).
func (r *run) preboot(p *proc, spec Spec, because string) {
	port := spec.Preboot.otherPort(p.spec.Port)
	if p.succ != nil || r.portHeld(port) {
		p.again = &spec
		return
	}
	p.again = nil
	s := newProc(spec.withPort(port))
	s.pred = p
	s.restarts = p.restarts + 1
	p.succ = s
	r.shadow = append(r.shadow, s)
	r.system("booting a new %s on port %d beside the running one%s", spec.Name, port, because)
	r.start(s)
	if p.succ == s && s.state == StateRunning && !s.ready {
		r.setTimer(s, spec.Preboot.bootTimeout(), timerBoot)
	}
}

// portHeld reports whether a process being stopped still holds port.
func (r *run) portHeld(port int) bool {
	for _, q := range r.shadow {
		if q.spec.Port == port && q.pred == nil && r.groupLeft(q) {
			return true
		}
	}
	return false
}

// switchTo makes the ready successor s take its predecessor's place; the
// predecessor gets the stop ladder.
func (r *run) switchTo(s *proc) {
	p := s.pred
	s.pred, p.succ = nil, nil
	s.again, p.again = p.again, nil
	s.stopTimer()
	r.shadow = slices.DeleteFunc(r.shadow, func(q *proc) bool { return q == s })
	i := slices.Index(r.procs, p)
	if i < 0 { // p left the formation meanwhile
		r.shadow = append(r.shadow, s)
		r.stopProc(s, thenDiscard)
		return
	}
	r.procs[i] = s
	switch p.state {
	case StateRunning, StateStopping:
		r.system("%s: the new version is up on port %d; stopping the previous one (pid %d)", s.spec.Name, s.spec.Port, p.pid)
		r.shadow = append(r.shadow, p)
		r.stopProc(p, thenRetire)
	default:
		r.system("%s: the new version is up on port %d", s.spec.Name, s.spec.Port)
		p.stopTimer()
		p.state = StateStopped
	}
}

// bootFailed stops a successor that exited or could not start during its
// boot; its predecessor keeps running.
func (r *run) bootFailed(s *proc, why string) {
	r.system("%s: the new version %s during boot; %s", s.spec.Name, why, r.stillServing(s.pred))
	s.then = thenDiscard
	r.reclaim(s)
}

// stillServing says what is left of p while its successor failed.
func (r *run) stillServing(p *proc) string {
	if p.state == StateRunning {
		return "still serving the previous one"
	}
	return "the previous one is " + string(p.state)
}

// discard stops p's booting successor, if any, and drops a queued one.
func (r *run) discard(p *proc) {
	p.again = nil
	if s := p.succ; s != nil {
		r.stopProc(s, thenDiscard)
	}
}

// resumePending starts the preboots queued while another was under way.
func (r *run) resumePending() {
	if r.stopping {
		return
	}
	for _, p := range r.procs {
		if p.again == nil || p.succ != nil {
			continue
		}
		spec := *p.again
		if p.state == StateRunning {
			r.preboot(p, spec, "")
			continue
		}
		p.again = nil
		p.next = &spec // it is down: the next start uses it
	}
}

// every is every process the run has started or may start: the formation,
// and the preboot successors and predecessors beside it.
func (r *run) every() []*proc {
	if len(r.shadow) == 0 {
		return r.procs
	}
	return append(append([]*proc(nil), r.procs...), r.shadow...)
}
