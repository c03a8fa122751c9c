//go:build linux

package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRunNothing(t *testing.T) {
	res, err := New(Options{Sink: newSinkRec()}).Run(context.Background(), nil)
	if !errors.Is(err, ErrNoProcesses) || res != (Result{}) {
		t.Fatalf("Run(nil) = %+v, %v; want ErrNoProcesses", res, err)
	}
}

func TestFirstExitStopsAll(t *testing.T) {
	tests := []struct {
		name    string
		cause   Spec
		code    int
		signal  syscall.Signal
		message string
	}{
		{"exit 0", helper("cause", "exit", "0"), 0, 0, "cause exited with code 0, stopping all processes"},
		{"exit 3", helper("cause", "exit", "3"), 3, 0, "cause exited with code 3, stopping all processes"},
		{"SIGKILL", helper("cause", "killself", "9"), 137, syscall.SIGKILL, "cause terminated by SIGKILL, stopping all processes"},
		{"SIGTERM", helper("cause", "killself", "15"), 143, syscall.SIGTERM, "cause terminated by SIGTERM, stopping all processes"},
	}
	for _, tt := range tests {
		for _, watch := range []bool{true, false} {
			name := tt.name
			if !watch {
				name += ", no exit watch" // a goroutine waits for each child
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				specs := []Spec{
					helper("web.1", "group", "die", "none", "-"),
					helper("worker.1", "group", "die", "none", "-"),
					tt.cause,
				}
				r := startRun(t, Options{Timeout: time.Minute, noExitWatch: !watch}, specs)
				res, err := r.wait(t)
				if err != nil {
					t.Fatal(err)
				}
				if want := (Result{Cause: "cause", Code: tt.code}); res != want {
					t.Errorf("Result = %+v, want %+v", res, want)
				}
				ex := r.rec.event(t, Exited, "cause")
				if ex.Code != tt.code || ex.Signal != tt.signal {
					t.Errorf("cause's Exited = code %d signal %v, want %d %v", ex.Code, ex.Signal, tt.code, tt.signal)
				}
				// Output written before the exit is delivered before the exit.
				line := "bye"
				if tt.signal != 0 {
					line = "dying"
				}
				iLine := r.rec.index(func(e recEntry) bool { return e.event == nil && e.name == "cause" && e.line == line })
				iExit := r.rec.index(func(e recEntry) bool { return e.event != nil && e.event.Kind == Exited && e.event.Name == "cause" })
				if iLine < 0 || iLine > iExit {
					t.Errorf("cause's %q at %d, its exit at %d: want the line first", line, iLine, iExit)
				}
				for _, name := range []string{"web.1", "worker.1"} {
					ex := r.rec.event(t, Exited, name)
					st := r.rec.event(t, Started, name)
					if ex.Signal != syscall.SIGTERM || ex.Code != 128+int(syscall.SIGTERM) || ex.PID != st.PID {
						t.Errorf("%s: Exited = %+v, want pid %d killed by SIGTERM, code 143", name, ex, st.PID)
					}
				}
				msgs := r.rec.systemMsgs()
				want := []string{tt.message, "sending SIGTERM to all processes"}
				if !slices.Equal(msgs, want) {
					t.Errorf("system messages = %q, want %q", msgs, want)
				}
				r.checkNothingLeft(t)
			})
		}
	}
}

// gateSink holds back the line "bye" of the process "cause" until the
// process has exited and a while longer, so that an exit reported before the
// output would be seen first.
type gateSink struct {
	*sinkRec
	exited chan struct{}
	once   sync.Once
	err    chan error
}

func (g *gateSink) Event(e Event) error {
	if e.Kind == Exited && e.Name == "cause" {
		g.once.Do(func() { close(g.exited) })
	}
	return g.sinkRec.Event(e)
}

func (g *gateSink) Lines(name string) LineWriter {
	lw := g.sinkRec.Lines(name)
	if name != "cause" {
		return lw
	}
	return lineFunc(func(p []byte) error {
		if bytes.Contains(p, []byte("bye\n")) {
			var pid int
			for _, e := range g.events(Started) {
				pid = e.PID
			}
			if err := pidGone(pid, testDeadline); err != nil {
				g.err <- err
			}
			select {
			case <-g.exited:
			case <-time.After(50 * time.Millisecond):
			}
		}
		return lw.WriteLines(p)
	})
}

type lineFunc func(p []byte) error

func (f lineFunc) WriteLines(p []byte) error { return f(p) }

// A leader that exits while a grandchild still holds its output open is
// reported once what the pipe held has been delivered, not when the output
// ends: its exit then stops the formation, and the grandchild with it. (Without Reap,
// which the tests must not set in their own process, the orphaned
// grandchild is reaped by init, which may take a while.)
func TestExitWhileOutputHeld(t *testing.T) {
	t.Parallel()
	r := startRun(t, Options{Timeout: time.Minute}, []Spec{helper("web.1", "leave")})
	res, err := r.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Cause: "web.1", Code: 3}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	if ex := r.rec.event(t, Exited, "web.1"); ex.Code != 3 {
		t.Errorf("web.1 exited with %d, want 3", ex.Code)
	}
	r.rec.waitLine(t, "web.1", "bye")
	r.checkNothingLeft(t)
}

// The output a process wrote before exiting is delivered before its exit,
// even when the reader is slower than the exit.
func TestOutputBeforeExit(t *testing.T) {
	t.Parallel()
	g := &gateSink{sinkRec: newSinkRec(), exited: make(chan struct{}), err: make(chan error, 1)}
	r := startRun(t, Options{Timeout: time.Minute, Sink: g}, []Spec{helper("cause", "exit", "0")})
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-g.err:
		t.Fatal(err)
	default:
	}
	iLine := r.rec.index(func(e recEntry) bool { return e.event == nil && e.line == "bye" })
	iExit := r.rec.index(func(e recEntry) bool { return e.event != nil && e.event.Kind == Exited })
	if iLine < 0 || iExit < 0 || iLine > iExit {
		t.Errorf("line at %d, exit at %d: want the line first; got:\n%s", iLine, iExit, r.rec.dump())
	}
}

// slowSink takes a long time over each write of more than a MiB (a terminal
// or a pipe that is slow to take a large write), and keeps what process name
// wrote, counting the bytes whose write ended after its exit was reported.
// A write under way when the exit is reported takes delay longer again, so
// that a supervisor that waited a fixed time for the output after the exit
// gives up before the write ends.
type slowSink struct {
	*sinkRec
	name   string
	delay  time.Duration
	exited chan struct{} // closed when name's exit is reported
	once   sync.Once

	mu   sync.Mutex
	got  bytes.Buffer
	late int
}

func newSlowSink(name string, delay time.Duration) *slowSink {
	return &slowSink{sinkRec: newSinkRec(), name: name, delay: delay, exited: make(chan struct{})}
}

func (s *slowSink) Event(e Event) error {
	if e.Kind == Exited && e.Name == s.name {
		s.once.Do(func() { close(s.exited) })
	}
	return s.sinkRec.Event(e)
}

func (s *slowSink) Lines(name string) LineWriter {
	if name != s.name {
		return s.sinkRec.Lines(name)
	}
	return lineFunc(func(p []byte) error {
		if len(p) > 1<<20 {
			// A slow writer, not a synchronisation: nothing waits for it.
			slow := time.NewTimer(s.delay)
			select {
			case <-slow.C:
			case <-s.exited:
				time.Sleep(s.delay)
			}
			slow.Stop()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.got.Write(p)
		select {
		case <-s.exited:
			s.late += len(p)
		default:
		}
		return nil
	})
}

// Every byte a process wrote reaches the Sink before Run returns, and before
// the process's exit is reported, however slow the Sink: here a process
// writes a 4 MiB line and a last partial line and exits at once, and the Sink
// takes longer over the line than the supervisor ever waited for output.
// With "hold", a grandchild keeps the output open after the exit, so the
// reader cannot wait for the output's end: it must still hand on what the
// pipe held, the partial line included, before the exit is reported.
func TestSlowSinkGetsEveryByteBeforeTheExit(t *testing.T) {
	const size = 4 << 20
	for _, hold := range []string{"none", "hold"} {
		t.Run(hold, func(t *testing.T) {
			t.Parallel()
			s := newSlowSink("big.1", 1500*time.Millisecond)
			r := startRun(t, Options{Timeout: time.Minute, Sink: s}, []Spec{helper("big.1", "big", strconv.Itoa(size), hold)})
			res, err := r.wait(t)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Result{Cause: "big.1"}); res != want {
				t.Errorf("Result = %+v, want %+v", res, want)
			}
			s.mu.Lock()
			got, late := bytes.Clone(s.got.Bytes()), s.late
			s.mu.Unlock()
			if want := append(bigOutput(size), '\n'); !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("by the time Run returned the Sink had %d bytes of big.1's output, want %d; they differ from byte %d", len(got), len(want), i)
			}
			if late != 0 {
				t.Errorf("%d bytes of big.1's output reached the Sink after its exit was reported", late)
			}
			r.checkNothingLeft(t)
		})
	}
}

func TestStopSignalPerProcess(t *testing.T) {
	t.Parallel()
	hup := helper("hup.1", "group", "die", "none", "-")
	hup.StopSignal = syscall.SIGHUP
	specs := []Spec{helper("web.1", "group", "die", "none", "-"), hup}
	r := startRun(t, Options{Timeout: time.Minute}, specs)
	r.rec.waitLine(t, "web.1", "ready")
	r.rec.waitLine(t, "hup.1", "ready")
	r.cancel(nil)
	res, err := r.wait(t)
	if err != nil || res != (Result{Interrupted: true}) {
		t.Fatalf("Run = %+v, %v; want Interrupted", res, err)
	}
	if ex := r.rec.event(t, Exited, "hup.1"); ex.Signal != syscall.SIGHUP {
		t.Errorf("hup.1 died of %v, want its stop signal SIGHUP", ex.Signal)
	}
	if ex := r.rec.event(t, Exited, "web.1"); ex.Signal != syscall.SIGTERM {
		t.Errorf("web.1 died of %v, want SIGTERM", ex.Signal)
	}
	want := []string{"shutting down", "sending SIGHUP to hup.1; SIGTERM to web.1"}
	if msgs := r.rec.systemMsgs(); !slices.Equal(msgs, want) {
		t.Errorf("system messages = %q, want %q", msgs, want)
	}
	r.checkNothingLeft(t)
}

func TestStartFailure(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		argv []string
		code int
	}{
		{"not found", []string{filepath.Join(t.TempDir(), "missing")}, 127},
		{"not in PATH", []string{"ganger-test-no-such-program"}, 127},
		{"not executable", []string{notExec}, 126},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			specs := []Spec{
				helper("web.1", "group", "die", "none", "-"),
				{Name: "bad", Argv: tt.argv},
				helper("later", "group", "die", "none", "-"),
			}
			r := startRun(t, Options{Timeout: time.Minute}, specs)
			res, err := r.wait(t)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Result{Cause: "bad", Code: tt.code}); res != want {
				t.Errorf("Result = %+v, want %+v", res, want)
			}
			if e := r.rec.event(t, StartFailed, "bad"); e.Err == nil {
				t.Error("StartFailed without an error")
			}
			if ex := r.rec.event(t, Exited, "web.1"); ex.Signal != syscall.SIGTERM {
				t.Errorf("web.1 died of %v, want SIGTERM", ex.Signal)
			}
			for _, e := range r.rec.events(0) {
				if e.Name == "later" {
					t.Errorf("a process listed after the failed one was started: %+v", e)
				}
			}
			if msgs := r.rec.systemMsgs(); len(msgs) == 0 || msgs[0] != "bad failed to start" {
				t.Errorf("system messages = %q, want first %q", msgs, "bad failed to start")
			}
			r.checkNothingLeft(t)
		})
	}
}

// The grace ladder: SIGTERM to every group; SIGKILL after Timeout to what is
// left, grandchildren included; no SIGKILL (and no waiting for the grace
// period) when everything stopped.
func TestInterruptGraceLadder(t *testing.T) {
	tests := []struct {
		name        string
		leader, gc  string // how each takes SIGTERM
		timeout     time.Duration
		cause       error
		leaderSig   syscall.Signal
		wantKill    bool
		firstSystem string
	}{
		{"both ignore TERM", "ignore", "ignore", 200 * time.Millisecond, nil, syscall.SIGKILL, true, "shutting down"},
		{"grandchild ignores TERM", "die", "ignore", 200 * time.Millisecond, nil, syscall.SIGTERM, true, "shutting down"},
		// A grace period far longer than the testDeadline: Run must return as
		// soon as the groups are empty, and it must not send SIGKILL.
		{"both stop", "die", "die", 10 * time.Minute, errors.New("SIGINT received"), syscall.SIGTERM, false, "SIGINT received, starting shutdown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pidfile := filepath.Join(t.TempDir(), "gc.pid")
			r := startRun(t, Options{Timeout: tt.timeout}, []Spec{
				helper("web.1", "group", tt.leader, tt.gc, pidfile),
				helper("worker.1", "group", "die", "none", "-"),
			})
			r.rec.waitLine(t, "web.1", "ready")
			r.rec.waitLine(t, "worker.1", "ready")
			gc := r.readPid(t, pidfile)
			if !pidAlive(gc) {
				t.Fatalf("grandchild %d not running before the shutdown", gc)
			}
			began := time.Now()
			r.cancel(tt.cause)
			res, err := r.wait(t)
			if err != nil || res != (Result{Interrupted: true}) {
				t.Fatalf("Run = %+v, %v; want Interrupted only", res, err)
			}
			if elapsed := time.Since(began); !tt.wantKill && elapsed > testDeadline/2 {
				t.Errorf("Run took %v after the cancel with every process stopped", elapsed)
			}
			ex := r.rec.event(t, Exited, "web.1")
			if ex.Signal != tt.leaderSig || ex.Code != 128+int(tt.leaderSig) {
				t.Errorf("web.1 Exited = code %d signal %v, want signal %v", ex.Code, ex.Signal, tt.leaderSig)
			}
			want := []string{tt.firstSystem, "sending SIGTERM to all processes"}
			if tt.wantKill {
				want = append(want, "sending SIGKILL to all processes")
			}
			if msgs := r.rec.systemMsgs(); !slices.Equal(msgs, want) {
				t.Errorf("system messages = %q, want %q", msgs, want)
			}
			r.checkNothingLeft(t)
		})
	}
}

func TestKillSkipsGrace(t *testing.T) {
	tests := []struct {
		name        string
		interrupt   bool // cancel ctx first and wait for the SIGTERM
		want        Result
		wantSystem0 string
	}{
		{"during the grace period", true, Result{Interrupted: true}, "shutting down"},
		{"before any shutdown", false, Result{}, "kill requested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pidfile := filepath.Join(t.TempDir(), "gc.pid")
			r := startRun(t, Options{Timeout: 10 * time.Minute}, []Spec{
				helper("stubborn", "group", "ignore", "ignore", pidfile),
			})
			r.rec.waitLine(t, "stubborn", "ready")
			r.readPid(t, pidfile)
			if tt.interrupt {
				r.cancel(nil)
				r.rec.waitSystem(t, "sending SIGTERM to all processes")
			}
			r.sup.Kill()
			r.sup.Kill() // a second Kill is harmless
			res, err := r.wait(t)
			if err != nil || res != tt.want {
				t.Fatalf("Run = %+v, %v; want %+v", res, err, tt.want)
			}
			if ex := r.rec.event(t, Exited, "stubborn"); ex.Signal != syscall.SIGKILL {
				t.Errorf("stubborn died of %v, want SIGKILL", ex.Signal)
			}
			want := []string{tt.wantSystem0, "sending SIGTERM to all processes", "sending SIGKILL to all processes"}
			if msgs := r.rec.systemMsgs(); !slices.Equal(msgs, want) {
				t.Errorf("system messages = %q, want %q", msgs, want)
			}
			r.checkNothingLeft(t)
		})
	}
}

func TestSignalReachesEveryGroup(t *testing.T) {
	t.Parallel()
	pidfile := filepath.Join(t.TempDir(), "gc.pid")
	names := []string{"a", "b", "c"}
	r := startRun(t, Options{Timeout: time.Minute}, []Spec{
		helper("a", "group", "usr1", "usr1", pidfile),
		helper("b", "group", "usr1", "none", "-"),
		helper("c", "group", "usr1", "none", "-"),
	})
	for _, n := range names {
		r.rec.waitLine(t, n, "ready")
	}
	r.readPid(t, pidfile)
	r.sup.Signal(syscall.SIGUSR1)
	for _, n := range names {
		r.rec.waitLine(t, n, "usr1 leader")
	}
	r.rec.waitLine(t, "a", "usr1 grandchild")
	if ex := r.rec.events(Exited); len(ex) != 0 {
		t.Errorf("SIGUSR1 stopped processes: %+v", ex)
	}
	r.cancel(nil)
	if res, err := r.wait(t); err != nil || res != (Result{Interrupted: true}) {
		t.Fatalf("Run = %+v, %v; want Interrupted", res, err)
	}
	r.checkNothingLeft(t)

	// After Run, Signal returns at once instead of blocking.
	sent := make(chan struct{})
	go func() {
		r.sup.Signal(syscall.SIGUSR1)
		close(sent)
	}()
	select {
	case <-sent:
	case <-time.After(testDeadline):
		t.Fatal("Signal blocked after Run returned")
	}
}

var errClosed = errors.New("write |1: broken pipe")

// A failed Sink ends the run at the first failed write, even when the child
// stays alive and never closes its output.
func TestOutputClosed(t *testing.T) {
	tests := []struct {
		name     string
		spec     Spec
		lineErr  error
		eventErr func(Event) error
		// maxCalls is the number of WriteLines calls allowed for "p"
		// (after the first error the rest is discarded).
		maxCalls int
	}{
		{"line writer fails, child idle", helper("p", "group", "die", "none", "-"), errClosed, nil, 1},
		{"line writer fails, child floods", helper("p", "flood"), errClosed, nil, 1},
		{"event fails", helper("p", "group", "die", "none", "-"), nil, func(e Event) error {
			if e.Kind == Started {
				return errClosed
			}
			return nil
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newSinkRec()
			rec.lineErr, rec.eventErr = tt.lineErr, tt.eventErr
			r := startRun(t, Options{Timeout: time.Minute, Sink: rec}, []Spec{tt.spec})
			res, err := r.wait(t)
			if err != nil || res != (Result{OutputClosed: true}) {
				t.Fatalf("Run = %+v, %v; want OutputClosed only", res, err)
			}
			if n := rec.writeCalls("p"); n > tt.maxCalls {
				t.Errorf("WriteLines called %d times, want at most %d", n, tt.maxCalls)
			}
			if ex := rec.event(t, Exited, "p"); ex.Signal != syscall.SIGTERM {
				t.Errorf("p died of %v, want SIGTERM", ex.Signal)
			}
			want := "output closed (" + errClosed.Error() + "), starting shutdown"
			if msgs := rec.systemMsgs(); len(msgs) == 0 || msgs[0] != want {
				t.Errorf("system messages = %q, want first %q", msgs, want)
			}
			r.checkNothingLeft(t)
		})
	}
}

// Many processes, each printing numbered lines: every line arrives once, in
// order, under its own name.
func TestOutputIntact(t *testing.T) {
	t.Parallel()
	const procs = 4
	var specs []Spec
	for i := range procs {
		specs = append(specs, helper("p"+strconv.Itoa(i), "flood"))
	}
	rec := newSinkRec()
	r := startRun(t, Options{Timeout: time.Minute, Sink: rec}, specs)
	const want = 20000
	rec.waitFor(t, "20000 lines from each process", func() bool {
		for _, s := range specs {
			if rec.nlines[s.Name] < want {
				return false
			}
		}
		return true
	})
	r.cancel(nil)
	if _, err := r.wait(t); err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.log {
		if e.event != nil {
			continue
		}
		wantLine := strconv.Itoa(next[e.name]) + " flood flood flood flood flood flood"
		next[e.name]++
		// SIGTERM may cut the last line short; it is then delivered with
		// a newline added.
		last := next[e.name] == rec.nlines[e.name]
		if e.line != wantLine && !(last && strings.HasPrefix(wantLine, e.line)) {
			t.Fatalf("%s: line %d is %q, want %q", e.name, next[e.name], e.line, wantLine)
		}
	}
}
