package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
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
	// Watchdog, when set, is told every process group so that it can kill
	// them if this process dies without cleaning up.
	Watchdog *Watchdog
}

// Result says how a Run ended.
type Result struct {
	// Cause is the process whose exit started the shutdown, "" when the
	// shutdown came from ctx or a failed Sink.
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

// Supervisor runs one formation. Create it with New, call Run once; Kill and
// Signal may be called from any goroutine while Run runs.
type Supervisor struct {
	opts     Options
	reqs     chan request
	kill     chan struct{}
	killOnce sync.Once
	done     chan struct{}
}

type request struct {
	sig syscall.Signal
}

// New returns a Supervisor.
func New(opts Options) *Supervisor {
	return &Supervisor{
		opts: opts,
		reqs: make(chan request),
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

// proc is one process as the supervisor goroutine sees it.
type proc struct {
	spec      Spec
	cmd       *exec.Cmd
	pid       int // 0 when it never started
	waiting   bool
	groupGone bool
	code      int
	signal    syscall.Signal
	readDone  chan struct{}
}

type exitMsg struct {
	p     *proc
	state *os.ProcessState
}

// run holds the state of one Run; only the supervisor goroutine touches it.
type run struct {
	s         *Supervisor
	sp        *spawner
	procs     []*proc
	exits     chan exitMsg
	sinkErr   chan error
	reaping   bool
	stopping  bool
	killed    bool
	result    Result
	grace     *time.Timer
	graceC    <-chan time.Time
	orphanSig map[int]bool // adopted orphans already sent the stop signal
}

// Run starts every spec and supervises them until all are gone. The first
// process to exit stops the rest; so does the end of ctx, or a failed Sink.
// Run returns only when no process it started, nor any descendant it could
// find, is left.
func (s *Supervisor) Run(ctx context.Context, specs []Spec) (Result, error) {
	defer close(s.done)
	if len(specs) == 0 {
		return Result{}, ErrNoProcesses
	}
	for _, sp := range specs {
		if len(sp.Argv) == 0 {
			return Result{}, fmt.Errorf("process %q has an empty command", sp.Name)
		}
	}
	r := &run{
		s:         s,
		sp:        newSpawner(),
		exits:     make(chan exitMsg, len(specs)),
		sinkErr:   make(chan error, 1),
		orphanSig: map[int]bool{},
	}
	defer r.sp.close()

	var sigchld chan os.Signal
	if s.opts.Reap && becomeSubreaper() {
		r.reaping = true
		sigchld = make(chan os.Signal, 1)
		signal.Notify(sigchld, syscall.SIGCHLD)
		defer signal.Stop(sigchld)
	}

	for _, spec := range specs {
		p := &proc{spec: spec, readDone: make(chan struct{})}
		r.procs = append(r.procs, p)
		if r.stopping {
			continue
		}
		if err := r.start(p); err != nil {
			r.event(Event{Kind: StartFailed, Name: spec.Name, Err: err})
			p.code = exitCodeForStartError(err)
			p.groupGone = true
			close(p.readDone)
			r.beginShutdown(fmt.Sprintf("%s failed to start", spec.Name), p)
		}
	}

	// poll is a fallback for what no signal announces: on systems without a
	// subreaper, and for groups whose last member's parent is not ganger.
	// It ticks only while stopping with every leader gone but a group left.
	var poll *time.Ticker
	var pollC <-chan time.Time
	defer func() {
		if poll != nil {
			poll.Stop()
		}
	}()

	ctxDone := ctx.Done()
	for {
		if r.stopping {
			if r.finished() {
				break
			}
			if poll == nil && !r.anyWaiting() {
				poll = time.NewTicker(10 * time.Millisecond)
				pollC = poll.C
			}
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
			r.exited(m)
		case <-sigchld:
			r.reapOrphans()
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
		case <-r.graceC:
			r.graceC = nil
			r.escalate()
		case <-pollC:
			r.reapOrphans()
		}
	}
	if r.grace != nil {
		r.grace.Stop()
	}
	r.drainReaders()
	return r.result, nil
}

// start launches p, reports it, and starts its reader and waiter.
func (r *run) start(p *proc) error {
	out, err := openOutput(p.spec)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.spec.Argv[0], p.spec.Argv[1:]...)
	cmd.Dir = p.spec.Dir
	cmd.Env = p.spec.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	out.attach(cmd)
	err = r.sp.start(cmd)
	out.started()
	if err != nil {
		out.r.Close()
		return err
	}
	p.cmd = cmd
	p.pid = cmd.Process.Pid
	p.waiting = true
	if wd := r.s.opts.Watchdog; wd != nil {
		wd.Add(p.pid)
	}
	r.event(Event{Kind: Started, Name: p.spec.Name, PID: p.pid})

	lw := out.lines(r.s.opts.Sink.Lines(p.spec.Name))
	go func() {
		defer close(p.readDone)
		defer out.r.Close()
		copyLines(out.r, lw, func(err error) {
			select {
			case r.sinkErr <- err:
			default:
			}
		})
	}()
	go func() {
		cmd.Wait()
		// Let the output written before the exit arrive before the exit is
		// reported. A background child may hold the pipe open for much
		// longer, so the wait is bounded.
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-p.readDone:
		case <-t.C:
		}
		t.Stop()
		r.exits <- exitMsg{p: p, state: cmd.ProcessState}
	}()
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

// exited records a leader's exit; the first one starts the shutdown.
func (r *run) exited(m exitMsg) {
	p := m.p
	p.waiting = false
	p.code, p.signal = exitStatus(m.state)
	r.event(Event{Kind: Exited, Name: p.spec.Name, PID: p.pid, Code: p.code, Signal: p.signal})
	if !r.stopping {
		r.beginShutdown("", p)
	}
	// Orphans are reaped on SIGCHLD and before the run ends; scanning here
	// too made every exit cost a walk over every thread's children.
}

// beginShutdown starts the ladder: stop signal to every group, then wait for
// the grace period. cause, when set, is the process whose exit caused it.
func (r *run) beginShutdown(reason string, cause *proc) {
	if r.stopping {
		return
	}
	r.stopping = true
	if cause != nil {
		r.result.Cause = cause.spec.Name
		r.result.Code = cause.code
		if reason == "" {
			reason = fmt.Sprintf("%s %s, stopping all processes", cause.spec.Name, describeExit(cause.code, cause.signal))
		}
	}
	r.event(Event{Kind: System, Msg: reason})

	bySig := map[syscall.Signal][]string{}
	for _, p := range r.procs {
		if p.pid == 0 || !r.groupLeft(p) {
			continue
		}
		sig := p.spec.stopSignal()
		bySig[sig] = append(bySig[sig], p.spec.Name)
	}
	if len(bySig) == 1 {
		for sig := range bySig {
			r.event(Event{Kind: System, Msg: fmt.Sprintf("sending %s to all processes", SignalName(sig))})
		}
	} else if len(bySig) > 1 {
		var parts []string
		for sig, names := range bySig {
			parts = append(parts, fmt.Sprintf("%s to %s", SignalName(sig), strings.Join(names, ", ")))
		}
		sort.Strings(parts)
		r.event(Event{Kind: System, Msg: "sending " + strings.Join(parts, "; ")})
	}
	for _, p := range r.procs {
		if p.pid != 0 && r.groupLeft(p) {
			signalGroup(p.pid, p.spec.stopSignal())
		}
	}
	r.signalOrphans(syscall.SIGTERM)
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
	r.event(Event{Kind: System, Msg: "sending SIGKILL to all processes"})
	for _, p := range r.procs {
		if p.pid != 0 && r.groupLeft(p) {
			signalGroup(p.pid, syscall.SIGKILL)
		}
	}
	r.signalOrphans(syscall.SIGKILL)
}

// forward sends sig to every live group.
func (r *run) forward(sig syscall.Signal) {
	for _, p := range r.procs {
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
	if wd := r.s.opts.Watchdog; wd != nil {
		wd.Remove(p.pid)
	}
	return false
}

func (r *run) anyWaiting() bool {
	for _, p := range r.procs {
		if p.waiting {
			return true
		}
	}
	return false
}

// finished reports whether nothing is left: every leader reaped, every group
// empty, and no adopted orphan alive.
func (r *run) finished() bool {
	done := true
	for _, p := range r.procs {
		if r.groupLeft(p) {
			done = false
		}
	}
	if !done {
		return false
	}
	if r.reaping {
		r.reapOrphans()
		return len(r.orphans()) == 0
	}
	return true
}

// owned reports whether pid is a child that os/exec or the watchdog waits for.
func (r *run) owned(pid int) bool {
	if wd := r.s.opts.Watchdog; wd != nil && wd.Pid() == pid {
		return true
	}
	for _, p := range r.procs {
		if p.waiting && p.pid == pid {
			return true
		}
	}
	return false
}

// orphans lists adopted children nobody else waits for.
func (r *run) orphans() []int {
	var out []int
	for _, pid := range children() {
		if !r.owned(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// reapOrphans reaps adopted children that have exited, and stops new ones
// when the shutdown has begun.
func (r *run) reapOrphans() {
	if !r.reaping {
		return
	}
	for _, pid := range r.orphans() {
		if reapPid(pid) {
			delete(r.orphanSig, pid)
			continue
		}
		if r.killed {
			killOrphan(pid, syscall.SIGKILL)
		} else if r.stopping && !r.orphanSig[pid] {
			r.orphanSig[pid] = true
			killOrphan(pid, syscall.SIGTERM)
		}
	}
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

// drainReaders waits for every output reader to deliver what it has. Every
// holder of the pipes is gone by now, so this is quick; the bound guards
// against a descendant that escaped on a system without a subreaper.
func (r *run) drainReaders() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for _, p := range r.procs {
		select {
		case <-p.readDone:
		case <-t.C:
			return
		}
	}
}

// exitStatus returns the exit code, 128+n for death by signal n, and n.
func exitStatus(st *os.ProcessState) (int, syscall.Signal) {
	if st == nil {
		return 1, 0
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), ws.Signal()
	}
	return st.ExitCode(), 0
}

func exitCodeForStartError(err error) int {
	if errors.Is(err, os.ErrNotExist) {
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
