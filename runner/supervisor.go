package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options configure a Supervisor.
type Options struct {
	// Timeout is the grace period between the stop signal and SIGKILL.
	Timeout time.Duration
	// Sink receives output and lifecycle events. Required.
	Sink Sink
	// Reap makes the supervisor a child subreaper (Linux) that adopts,
	// stops and reaps orphaned descendants. It reaps every child it does not
	// own, so enable it only when nothing else in this program starts
	// children while Run runs (true for the ganger binary).
	Reap bool
	// Spare, when set, reports children of this program that something
	// else starts and waits for while Run runs (crash alert hooks): Reap
	// leaves them alone. It is called on the supervisor goroutine and must
	// not block.
	Spare func(pid int) bool
	// Watchdog, when set, is told every process group so that it can kill
	// them if this process dies without cleaning up.
	Watchdog *Watchdog
	// KeepGoing makes an exit that is not restarted leave that process down
	// and the others running, instead of stopping the formation (for
	// "ganger start --watch": the next change starts it again). Run then
	// ends only through ctx, Kill or a failed Sink.
	KeepGoing bool
	// Backoff paces the restarts of RestartOnFailure and RestartAlways.
	Backoff Backoff
	// ProbeInterval is how often a Ready.Port probe tries the port; 0 means
	// 20ms.
	ProbeInterval time.Duration

	// noExitWatch, for tests, waits for each child with a goroutine of its
	// own, as when the exit watch cannot be had (before Linux 5.3, or off
	// Linux).
	noExitWatch bool
}

// Backoff paces automatic restarts: the first comes after Initial, each
// next one after twice the last, at most Max; a process that had run for
// longer than Window starts over at Initial. After Limit exits within Window the
// supervisor gives up on the process. Zero fields take the defaults: 1s,
// 30s, 5 exits, 60s.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Limit   int
	Window  time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Limit <= 0 {
		b.Limit = 5
	}
	if b.Window <= 0 {
		b.Window = time.Minute
	}
	return b
}

// Result says how a Run ended.
type Result struct {
	// Cause is the process whose exit started the shutdown, "" when the
	// shutdown came from ctx, a failed Sink, or every process finishing.
	Cause string
	// Code is Cause's exit code, 128+n when it died of signal n.
	Code int
	// Interrupted is true when ctx ended the run.
	Interrupted bool
	// OutputClosed is true when the Sink failed (a closed pipe) and ended the run.
	OutputClosed bool
}

// ErrNoProcesses is returned by Run when given nothing to run.
var ErrNoProcesses = errors.New("no processes to run")

// ErrShuttingDown is returned by Restart, Stop, Update and Status when the
// formation is stopping or has stopped.
var ErrShuttingDown = errors.New("ganger is shutting down")

// Supervisor runs one formation. Create it with New, call Run once; the
// other methods may be called from any goroutine while Run runs.
type Supervisor struct {
	opts     Options
	reqs     chan request
	ops      chan op
	kill     chan struct{}
	killOnce sync.Once
	done     chan struct{}
}

type request struct {
	sig syscall.Signal
}

// op is work for the supervisor goroutine. apply returns the condition the
// caller waits for (nil: none) or an error to return at once.
type op struct {
	apply func(r *run) (until func() bool, err error)
	reply chan error
}

// New returns a Supervisor.
func New(opts Options) *Supervisor {
	opts.Backoff = opts.Backoff.withDefaults()
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = 20 * time.Millisecond
	}
	return &Supervisor{
		opts: opts,
		reqs: make(chan request),
		ops:  make(chan op),
		kill: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// Kill ends the grace period at once: every group left gets SIGKILL. It also
// starts the shutdown if it had not started.
func (s *Supervisor) Kill() { s.killOnce.Do(func() { close(s.kill) }) }

// Signal forwards sig to every running process group (foreman forwards
// SIGUSR1 and SIGUSR2). It returns once delivered, or when Run has ended.
func (s *Supervisor) Signal(sig syscall.Signal) {
	select {
	case s.reqs <- request{sig: sig}:
	case <-s.done:
	}
}

// do hands f to the supervisor goroutine and waits for its answer.
func (s *Supervisor) do(ctx context.Context, f func(r *run) (func() bool, error)) error {
	reply := make(chan error, 1)
	select {
	case s.ops <- op{apply: f, reply: reply}:
	case <-s.done:
		return ErrShuttingDown
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Restart stops the named processes (instance names such as "web.1" or
// types such as "web"; none means all) with the stop ladder and starts them
// again once their process group is empty, so that two instances of one
// process never run at once. Stopped, exited and crashed processes are
// started. reason, when set, is shown: "restarting web.1: app.go changed".
// It returns when every one of them has been started again (or waits for
// the processes named in its After).
func (s *Supervisor) Restart(ctx context.Context, names []string, reason string) error {
	return s.do(ctx, func(r *run) (func() bool, error) { return r.restart(names, reason) })
}

// Stop stops the named processes (names or types; none means all) with the
// stop ladder; they stay stopped until Restart. Stopping on purpose never
// stops the rest of the formation. It returns when they are stopped.
func (s *Supervisor) Stop(ctx context.Context, names []string) error {
	return s.do(ctx, func(r *run) (func() bool, error) { return r.stop(names) })
}

// Update replaces the formation with specs: processes whose name is new are
// started, those whose name is gone are stopped and forgotten, those whose
// Spec changed are restarted with the new one, and the rest are left alone.
// reason is shown with each change ("restarting web.1: Procfile changed").
// It returns once the changes are under way.
func (s *Supervisor) Update(ctx context.Context, specs []Spec, reason string) error {
	return s.do(ctx, func(r *run) (func() bool, error) { return nil, r.update(specs, reason) })
}

// OutputClosed ends the run as a failed write to the Sink does (Result.
// OutputClosed): for a caller that learns its output is gone before a write
// does, such as when the reader of a pipe exits while every process is
// quiet.
func (s *Supervisor) OutputClosed(ctx context.Context, err error) error {
	return s.do(ctx, func(r *run) (func() bool, error) {
		select {
		case r.sinkErr <- err:
		default: // one is already pending
		}
		return nil, nil
	})
}

// Status reports every process, in formation order.
func (s *Supervisor) Status(ctx context.Context) ([]Status, error) {
	var out []Status
	err := s.do(ctx, func(r *run) (func() bool, error) {
		out = r.status()
		return nil, nil
	})
	return out, err
}

// waiter is a caller of do waiting for a condition.
type waiter struct {
	until func() bool
	reply chan error
}

type exitMsg struct {
	p      *proc
	status syscall.WaitStatus
	ok     bool // false: the process could not be waited for
}

// timerKind says what a proc's timer was for.
type timerKind int

const (
	timerGrace   timerKind = iota + 1 // the grace period of a stop ends: SIGKILL
	timerBackoff                      // the backoff before a restart ends
	timerBoot                         // a preboot successor's boot timeout ends
)

type timerMsg struct {
	p    *proc
	tgen int
	kind timerKind
}

type readyMsg struct {
	p    *proc
	gen  int
	at   time.Time
	port int
	line string
}

// run holds the state of one Run; only the supervisor goroutine touches it.
type run struct {
	s         *Supervisor
	sp        *spawner
	ew        *exitWatch // nil: each child has a goroutine waiting for it
	bufs      bufPool    // small read buffers, shared by the processes' readers
	readers   []*readCtl // output readers that may not have returned, of every run of every process
	procs     []*proc
	shadow    []*proc // preboot successors booting, and the processes they replaced while they stop
	exits     chan exitMsg
	timers    chan timerMsg
	readys    chan readyMsg
	sinkErr   chan error
	quit      chan struct{} // closed when Run ends: unblocks senders
	waiters   []waiter
	reaping   bool
	stopping  bool
	killed    bool
	result    Result
	grace     *time.Timer
	graceC    <-chan time.Time
	orphanSig map[int]bool // adopted orphans already sent the stop signal
	null      *os.File     // /dev/null, every child's stdin; opened by devNull
}

// devNull returns /dev/null open for reading, opened on first use and shared
// by every child as its stdin; Run closes it.
func (r *run) devNull() (*os.File, error) {
	if r.null == nil {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return nil, fmt.Errorf("open the children's stdin: %w", err)
		}
		r.null = f
	}
	return r.null, nil
}

// reapPid reaps pid if it has exited. It reports whether pid is gone.
func reapPid(pid int) bool {
	var ws syscall.WaitStatus
	got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	return got == pid || err == syscall.ECHILD
}

// reap waits for the child pid, which has exited or is about to, and
// returns its status; ok is false if it cannot be waited for.
func reap(pid int) (status syscall.WaitStatus, ok bool) {
	for {
		got, err := syscall.Wait4(pid, &status, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		return status, err == nil && got == pid
	}
}

// Run starts every spec and supervises them until all are gone. The first
// process to exit stops the rest (unless its Spec or Options say
// otherwise); so does the end of ctx, or a failed Sink. Run returns only
// when no process it started, nor any descendant it could find, is left.
func (s *Supervisor) Run(ctx context.Context, specs []Spec) (Result, error) {
	defer close(s.done)
	if len(specs) == 0 {
		return Result{}, ErrNoProcesses
	}
	if err := checkSpecs(specs); err != nil {
		return Result{}, err
	}
	r := &run{
		s:         s,
		sp:        newSpawner(),
		exits:     make(chan exitMsg),
		timers:    make(chan timerMsg),
		readys:    make(chan readyMsg),
		sinkErr:   make(chan error, 1),
		quit:      make(chan struct{}),
		orphanSig: map[int]bool{},
	}
	if !s.opts.noExitWatch {
		r.ew = newExitWatch()
	}
	defer r.sp.close()
	defer r.ew.close()
	defer func() {
		if r.null != nil {
			r.null.Close()
		}
	}()

	var sigchld chan os.Signal
	if s.opts.Reap && becomeSubreaper() {
		r.reaping = true
		sigchld = make(chan os.Signal, 1)
		signal.Notify(sigchld, syscall.SIGCHLD)
		defer signal.Stop(sigchld)
	}

	for _, spec := range specs {
		r.procs = append(r.procs, newProc(spec))
	}
	for _, p := range r.procs {
		if r.stopping {
			break
		}
		if p.state == stateNew {
			r.start(p)
		}
	}
	r.checkAllDone()

	// poll is a fallback for what no signal announces: on systems without a
	// subreaper, and for groups whose last member's parent is not ganger.
	// It ticks only while a process's leader is gone but its group is not.
	var poll *time.Ticker
	var pollC <-chan time.Time
	defer func() {
		if poll != nil {
			poll.Stop()
		}
	}()

	ctxDone := ctx.Done()
	for {
		if r.stopping && r.finished() {
			break
		}
		if r.lingering() {
			if poll == nil {
				poll = time.NewTicker(10 * time.Millisecond)
				pollC = poll.C
			}
		} else if poll != nil {
			poll.Stop()
			poll, pollC = nil, nil
		}
		select {
		case <-ctxDone:
			ctxDone = nil
			if r.stopping {
				continue // already stopping; the cause stays the first one
			}
			r.result.Interrupted = true
			reason := "shutting down"
			if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
				reason = c.Error() + ", starting shutdown"
			}
			r.beginShutdown(reason, nil)
		case m := <-r.exits:
			r.leaderExited(m)
		case m := <-r.timers:
			r.timerFired(m)
		case m := <-r.readys:
			r.becameReady(m)
		case <-sigchld:
			// While stopping, finished reaps and signals the adopted
			// children once every group is empty; listing them at
			// each of fifty exits would only slow the shutdown.
			if !r.stopping {
				r.reapOrphans()
				r.checkGone()
			}
		case err := <-r.sinkErr:
			if !r.stopping {
				r.result.OutputClosed = true
				r.beginShutdown(fmt.Sprintf("output closed (%v), starting shutdown", err), nil)
			}
		case <-s.kill:
			s.kill = nil // a closed channel would spin; one escalation is enough
			if !r.stopping {
				r.beginShutdown("kill requested", nil)
			}
			r.escalate()
		case req := <-s.reqs:
			r.forward(req.sig)
		case o := <-s.ops:
			if r.stopping {
				o.reply <- ErrShuttingDown
				break
			}
			until, err := o.apply(r)
			if err != nil || until == nil {
				o.reply <- err
				break
			}
			r.waiters = append(r.waiters, waiter{until: until, reply: o.reply})
		case <-r.graceC:
			r.graceC = nil
			r.escalate()
		case <-pollC:
			r.reapOrphans()
			r.checkGone()
		}
		r.checkWaiters()
	}
	// finished has seen every group empty.
	if wd := r.s.opts.Watchdog; wd != nil {
		wd.Clear()
	}
	if r.grace != nil {
		r.grace.Stop()
	}
	for _, p := range r.every() {
		p.stopTimer()
	}
	close(r.quit)
	r.drainReaders()
	// No waiter is left: beginShutdown answered them, and ops that arrive
	// while stopping are refused.
	return r.result, nil
}

// checkSpecs refuses what cannot run: empty commands, repeated names, bad
// ready patterns and processes that wait for each other.
func checkSpecs(specs []Spec) error {
	seen := map[string]bool{}
	for _, sp := range specs {
		if len(sp.Argv) == 0 {
			return fmt.Errorf("process %q has an empty command", sp.Name)
		}
		if seen[sp.Name] {
			return fmt.Errorf("process %q is given twice", sp.Name)
		}
		seen[sp.Name] = true
		if sp.Ready.Line != "" {
			if _, err := regexp.Compile(sp.Ready.Line); err != nil {
				return fmt.Errorf("process %q: ready line %q: %w", sp.Name, sp.Ready.Line, err)
			}
		}
	}
	return checkAfterCycles(specs)
}

// checkAfterCycles refuses types that wait, directly or not, for
// themselves: none of them could ever start.
func checkAfterCycles(specs []Spec) error {
	after := map[string][]string{}
	for _, sp := range specs {
		t := sp.typ()
		if _, ok := after[t]; !ok {
			after[t] = sp.After
		}
	}
	const (
		unseen = iota
		visiting
		done
	)
	mark := map[string]int{}
	var path []string
	var visit func(t string) error
	visit = func(t string) error {
		switch mark[t] {
		case visiting:
			i := 0
			for path[i] != t {
				i++
			}
			return fmt.Errorf("processes wait for each other: %s -> %s (after:)", strings.Join(path[i:], " -> "), t)
		case done:
			return nil
		}
		mark[t] = visiting
		path = append(path, t)
		for _, d := range after[t] {
			if _, ok := after[d]; ok {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		mark[t] = done
		return nil
	}
	types := make([]string, 0, len(after))
	for t := range after {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		if err := visit(t); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) event(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if err := r.s.opts.Sink.Event(e); err != nil {
		select {
		case r.sinkErr <- err:
		default:
		}
	}
}

func (r *run) system(format string, args ...any) {
	r.event(Event{Kind: System, Msg: fmt.Sprintf(format, args...)})
}

// checkWaiters answers the callers whose condition now holds.
func (r *run) checkWaiters() {
	kept := r.waiters[:0]
	for _, w := range r.waiters {
		if w.until() {
			w.reply <- nil
		} else {
			kept = append(kept, w)
		}
	}
	r.waiters = kept
}

// beginShutdown starts the ladder: stop signal to every group, then wait for
// the grace period. cause, when set, is the process whose exit caused it.
func (r *run) beginShutdown(reason string, cause *proc) {
	if r.stopping {
		return
	}
	r.stopping = true
	for _, w := range r.waiters {
		w.reply <- ErrShuttingDown
	}
	r.waiters = nil
	if cause != nil {
		r.result.Cause = cause.spec.Name
		r.result.Code = cause.code
		if reason == "" {
			reason = fmt.Sprintf("%s %s, stopping all processes", cause.spec.Name, describeExit(cause.code, cause.signal))
		}
	}
	e := Event{Kind: System, Msg: reason, Interrupted: r.result.Interrupted && cause == nil}
	if cause != nil {
		e.StoppedBy = cause.spec.Name
	}
	r.event(e)

	// Timers of single processes give way to the formation's ladder; a
	// process already sent its stop signal is not sent it again (a second
	// SIGINT means "quit now" to many servers).
	bySig := map[syscall.Signal][]string{}
	var targets []*proc
	for _, p := range r.every() {
		p.stopTimer()
		if p.state == StateBackingOff || p.state == StateWaiting {
			p.state = StateStopped
		}
		if p.pid == 0 || !r.groupLeft(p) {
			continue
		}
		if p.state == StateStopping {
			continue
		}
		p.state = StateStopping
		sig := p.spec.stopSignal()
		bySig[sig] = append(bySig[sig], p.spec.Name)
		targets = append(targets, p)
	}
	if len(bySig) == 1 {
		for sig := range bySig {
			r.system("sending %s to all processes", SignalName(sig))
		}
	} else if len(bySig) > 1 {
		var parts []string
		for sig, names := range bySig {
			parts = append(parts, fmt.Sprintf("%s to %s", SignalName(sig), strings.Join(names, ", ")))
		}
		sort.Strings(parts)
		r.system("sending %s", strings.Join(parts, "; "))
	}
	r.signalOrphans(syscall.SIGTERM)
	for _, p := range targets {
		signalGroup(p.pid, p.spec.stopSignal())
	}
	r.grace = time.NewTimer(r.s.opts.Timeout)
	r.graceC = r.grace.C
}

// escalate sends SIGKILL to everything left.
func (r *run) escalate() {
	if r.killed {
		return
	}
	r.killed = true
	if r.finished() {
		return
	}
	r.system("sending SIGKILL to all processes")
	for _, p := range r.every() {
		if p.pid != 0 && r.groupLeft(p) {
			signalGroup(p.pid, syscall.SIGKILL)
		}
	}
	r.signalOrphans(syscall.SIGKILL)
}

// forward sends sig to every live group.
func (r *run) forward(sig syscall.Signal) {
	for _, p := range r.every() {
		if p.pid != 0 && r.groupLeft(p) {
			signalGroup(p.pid, sig)
		}
	}
}

// groupLeft reports whether p's process group still has members, and
// remembers when it has none (a pgid is only signalled while it is ours).
func (r *run) groupLeft(p *proc) bool {
	if p.groupGone || p.pid == 0 {
		return false
	}
	if p.waiting || groupAlive(p.pid) {
		return true
	}
	p.groupGone = true
	// While stopping, the watchdog is cleared at once when the run ends:
	// fifty removals there were the longest step after the last exit.
	if wd := r.s.opts.Watchdog; wd != nil && !r.stopping {
		wd.Remove(p.pid)
	}
	return false
}

// lingering reports whether a leader has been reaped while its group still
// has members: only a poll can tell when they are gone.
func (r *run) lingering() bool {
	for _, p := range r.every() {
		if p.pid != 0 && !p.waiting && !p.groupGone {
			return true
		}
	}
	return false
}

// finished reports whether nothing is left: every leader reaped, every group
// empty, and no adopted orphan alive.
//
// It runs after every message while stopping, so it answers from memory
// while a leader is still running, and only then asks the kernel about each
// group and lists the adopted children.
func (r *run) finished() bool {
	for _, p := range r.every() {
		if p.waiting {
			return false
		}
	}
	for _, p := range r.every() {
		if r.groupLeft(p) {
			return false
		}
	}
	if r.reaping {
		return r.reapOrphans() == 0
	}
	return true
}

// owned reports whether pid is a child that a process's waiter or the
// watchdog waits for.
func (r *run) owned(pid int) bool {
	if wd := r.s.opts.Watchdog; wd != nil && wd.Pid() == pid {
		return true
	}
	if r.s.opts.Spare != nil && r.s.opts.Spare(pid) {
		return true
	}
	for _, p := range r.every() {
		if p.waiting && p.pid == pid {
			return true
		}
	}
	return false
}

// orphans lists adopted children nobody else waits for.
func (r *run) orphans() []int {
	var out []int
	for _, pid := range adopted() {
		if !r.owned(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// reapOrphans reaps adopted children that have exited, and stops new ones
// when the shutdown has begun.
// It returns how many are still alive.
func (r *run) reapOrphans() (alive int) {
	if !r.reaping {
		return 0
	}
	for _, pid := range r.orphans() {
		if reapPid(pid) {
			delete(r.orphanSig, pid)
			continue
		}
		alive++
		if r.killed {
			killOrphan(pid, syscall.SIGKILL)
		} else if r.stopping && !r.orphanSig[pid] {
			r.orphanSig[pid] = true
			killOrphan(pid, syscall.SIGTERM)
		}
	}
	return alive
}

func (r *run) signalOrphans(sig syscall.Signal) {
	if !r.reaping {
		return
	}
	for _, pid := range r.orphans() {
		r.orphanSig[pid] = true
		killOrphan(pid, sig)
	}
}

// killOrphan signals an adopted orphan: its whole group when it leads one
// that is not ganger's, else the process alone.
func killOrphan(pid int, sig syscall.Signal) {
	if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid && pgid != syscall.Getpgrp() {
		signalGroup(pgid, sig)
		return
	}
	if pid > 1 {
		syscall.Kill(pid, sig)
	}
}

// addReader records a new output reader, and forgets those that have
// returned (a process restarted many times leaves one each).
func (r *run) addReader(c *readCtl) {
	r.readers = slices.DeleteFunc(r.readers, (*readCtl).ended)
	r.readers = append(r.readers, c)
}

// drainReaders has every output reader deliver all that its process and
// their descendants wrote, and waits for it, however long the Sink takes.
// Every holder of the pipes is normally gone by now, so each reader reads
// its pipe to the end; one that a descendant which escaped from its group
// (on a system without a subreaper) still holds open is read out to what it
// holds, and then left. A reader that cannot be told so (a terminal off
// Linux, whose reads block in the system) is waited for at most a second in
// all.
func (r *run) drainReaders() {
	var blind []*readCtl
	for _, c := range r.readers {
		if !c.finish() {
			blind = append(blind, c)
		}
	}
	for _, c := range r.readers {
		if c.f != nil {
			<-c.done
		}
	}
	if len(blind) == 0 {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for _, c := range blind {
		select {
		case <-c.done:
		case <-t.C:
			return
		}
	}
}

// exitStatus returns the exit code, 128+n for death by signal n, and n; 1
// when the status is not known.
func exitStatus(ws syscall.WaitStatus, ok bool) (int, syscall.Signal) {
	switch {
	case !ok:
		return 1, 0
	case ws.Signaled():
		return 128 + int(ws.Signal()), ws.Signal()
	}
	return ws.ExitStatus(), 0
}

// exitCodeForStartError is the shell's code for a program that could not
// be started: 127 when it does not exist, 126 otherwise.
func exitCodeForStartError(err error) int {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
		return 127
	}
	return 126
}

// describeExit renders an exit the way foreman does.
func describeExit(code int, sig syscall.Signal) string {
	if sig != 0 {
		return "terminated by " + SignalName(sig)
	}
	return fmt.Sprintf("exited with code %d", code)
}

// SignalName returns "SIGTERM" for syscall.SIGTERM, "SIGSEGV" for a crash.
func SignalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// ParseSignal parses "TERM", "SIGTERM" or "15".
func ParseSignal(s string) (syscall.Signal, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(t); err == nil {
		for _, sig := range signalNames {
			if int(sig) == n {
				return sig, nil
			}
		}
	}
	name := strings.TrimPrefix(strings.ToUpper(t), "SIG")
	if sig, ok := signalNames[name]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q (use TERM, INT, QUIT, HUP, USR1, USR2 or KILL)", s)
}

var signalNames = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"HUP": syscall.SIGHUP, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	"KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE, "ABRT": syscall.SIGABRT,
	"ALRM": syscall.SIGALRM,
}

// startProcess starts spec's program with attr on sp's thread. A program
// named without a slash is looked up in ganger's PATH, as exec.Command does.
// With withPidfd, and where the system has them, it also returns a pidfd of
// the child (else -1). Unlike exec.Cmd it neither copies the environment
// (spec.Env has no repeated keys) nor opens /dev/null for each child, and
// unlike os.StartProcess it opens no second pidfd.
func startProcess(sp *spawner, spec Spec, attr *syscall.ProcAttr, withPidfd bool) (pid, pidfd int, err error) {
	path := spec.Argv[0]
	if !strings.Contains(path, "/") {
		lp, err := exec.LookPath(path)
		if err != nil {
			return 0, -1, err
		}
		path = lp
	}
	sp.do(func() { pid, pidfd, err = startChild(path, spec.Argv, attr, withPidfd) })
	if err != nil {
		return 0, -1, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return pid, pidfd, nil
}
