//go:build linux

package runner

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary is also every fake child (the os/exec helper-process
// pattern): when GANGER_RUNNER_CHILD names a helper, TestMain runs it with
// the program's arguments instead of the tests. Helpers signal readiness by
// printing "ready" (after their signal handlers are installed and their
// grandchildren are set up), so tests wait on a line, never on a sleep.
const childEnv = "GANGER_RUNNER_CHILD"

// helpers are the fake children, by name. Each returns its exit code.
var helpers = map[string]func(args []string) int{
	// exit CODE: print "bye", exit with CODE.
	"exit": func(args []string) int {
		fmt.Println("bye")
		return atoi(args[0])
	},
	// killself SIGNUM: print "dying" and send itself the signal.
	"killself": func(args []string) int {
		fmt.Println("dying")
		syscall.Kill(os.Getpid(), syscall.Signal(atoi(args[0])))
		hang()
		return 0
	},
	// group LEADER GRANDCHILD PIDFILE: a process group. LEADER is how the
	// leader takes SIGTERM (die, ignore, or usr1: die, but print
	// "usr1 leader" on each SIGUSR1). GRANDCHILD is none or a grandchild mode
	// (see "grandchild"); the grandchild stays in the leader's group, shares
	// its output and has its pid written to PIDFILE.
	"group": func(args []string) int {
		behave(args[0], "leader")
		if args[1] != "none" {
			pid := spawnGrandchild(args[1], false)
			writePid(args[2], pid)
		}
		fmt.Println("ready")
		hang()
		return 0
	},
	// grandchild MODE: die, ignore or usr1 as for "group", or exit (exit 0
	// once set up). It reports being set up on fd 3.
	"grandchild": func(args []string) int {
		exit := args[0] == "exit"
		if !exit {
			behave(args[0], "grandchild")
		}
		ready := os.NewFile(3, "ready")
		ready.Write([]byte{'.'})
		ready.Close()
		if exit {
			return 0
		}
		hang()
		return 0
	},
	// leave: start a grandchild (it dies of SIGTERM) that stays in the
	// group and shares the output, print "bye" and exit 3 while it lives.
	"leave": func(args []string) int {
		spawnGrandchild("die", false)
		fmt.Println("bye")
		return 3
	},
	// escape PIDFILE MODE: double-fork a grandchild (MODE as for
	// "grandchild") into a new session, so that it leaves the group; its pid
	// goes to PIDFILE. The middle process exits at once, orphaning it.
	"escape": func(args []string) int {
		mid := exec.Command(testExe, args...)
		mid.Env = []string{childEnv + "=escape-mid"}
		mid.Stdout, mid.Stderr = os.Stdout, os.Stderr
		if err := mid.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "escape:", err)
			return 2
		}
		fmt.Println("ready")
		hang()
		return 0
	},
	"escape-mid": func(args []string) int {
		writePid(args[0], spawnGrandchild(args[1], true))
		return 0
	},
	// listen PORT: print "up", then listen on 127.0.0.1:PORT and hang.
	"listen": func(args []string) int {
		fmt.Println("up")
		l, err := net.Listen("tcp", "127.0.0.1:"+args[0])
		if err != nil {
			fmt.Println("listen:", err)
			return 1
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		hang()
		return 0
	},
	// web DIR: listen on 127.0.0.1:$PORT, print "listening PORT" and hang;
	// with DIR/fail present exit 3 at once instead, with DIR/hang present
	// hang without listening.
	"web": func(args []string) int {
		if _, err := os.Stat(filepath.Join(args[0], "fail")); err == nil {
			fmt.Println("failing")
			return 3
		}
		if _, err := os.Stat(filepath.Join(args[0], "hang")); err == nil {
			hang()
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
		if err != nil {
			fmt.Println("listen:", err)
			return 1
		}
		defer l.Close()
		fmt.Println("listening", os.Getenv("PORT"))
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		hang()
		return 0
	},
	// count FILE CODE: append a line to FILE, print its line count as
	// "run N", exit with CODE.
	"count": func(args []string) int {
		f, err := os.OpenFile(args[0], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			panic(err)
		}
		f.WriteString("x\n")
		f.Close()
		b, _ := os.ReadFile(args[0])
		fmt.Printf("run %d\n", bytes.Count(b, []byte("\n")))
		return atoi(args[1])
	},
	// big SIZE HOLD: write bigOutput(SIZE) in one write and exit 0 at once.
	// With HOLD "hold" a grandchild (it dies of SIGTERM) shares the output
	// and keeps it open after the exit; with "none" nothing does.
	"big": func(args []string) int {
		if args[1] == "hold" {
			spawnGrandchild("die", false)
		}
		if _, err := os.Stdout.Write(bigOutput(atoi(args[0]))); err != nil {
			return 1
		}
		return 0
	},
	// flood: print numbered lines forever.
	"flood": func(args []string) int {
		var b []byte
		for i := 0; ; i++ {
			b = strconv.AppendInt(b[:0], int64(i), 10)
			b = append(b, " flood flood flood flood flood flood\n"...)
			if _, err := os.Stdout.Write(b); err != nil {
				return 1
			}
		}
	},
}

// bigOutput is what the helper "big" writes: one line of size bytes, a
// pattern that shows a lost or repeated piece, then "last" without a newline.
func bigOutput(size int) []byte {
	b := make([]byte, 0, size+len("\nlast"))
	for i := 0; len(b) < size; i++ {
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ' ')
	}
	return append(b[:size], "\nlast"...)
}

// behave installs the way a fake process takes SIGTERM and SIGUSR1.
func behave(mode, who string) {
	switch mode {
	case "die":
	case "ignore":
		signal.Ignore(syscall.SIGTERM)
	case "usr1":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR1)
		go func() {
			for range c {
				fmt.Println("usr1 " + who)
			}
		}()
	default:
		panic("unknown mode " + mode)
	}
}

// spawnGrandchild starts a "grandchild" helper sharing stdout, waits until
// it is set up and returns its pid. It is never waited for: when its parent
// dies it is reparented, which is the point.
func spawnGrandchild(mode string, newSession bool) int {
	pr, pw, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(testExe, mode)
	cmd.Env = []string{childEnv + "=grandchild"}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{pw}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: newSession}
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	pw.Close()
	var b [1]byte
	if n, _ := pr.Read(b[:]); n != 1 {
		panic("grandchild died before it was set up")
	}
	pr.Close()
	return cmd.Process.Pid
}

func writePid(path string, pid int) {
	// Written to a temporary name and renamed, so a reader never sees half.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o600); err != nil {
		panic(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		panic(err)
	}
}

func hang() {
	for {
		time.Sleep(time.Hour) // blocks until a signal ends the process
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// testExe is this test binary, the program of every fake child.
var testExe string

var (
	usedMu sync.Mutex
	used   = map[string]bool{}
)

func TestMain(m *testing.M) {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	testExe = exe
	if name := os.Getenv(childEnv); name != "" {
		h, ok := helpers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown helper %q\n", name)
			os.Exit(2)
		}
		os.Exit(h(os.Args[1:]))
	}
	code := m.Run()
	// Like os/exec's tests: on a full run, a helper nobody uses is dead code
	// (grandchild, escape-mid and the like are started by other helpers).
	if code == 0 && !testing.Short() && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		indirect := map[string]bool{"grandchild": true, "escape-mid": true}
		for name := range helpers {
			if !used[name] && !indirect[name] {
				fmt.Fprintf(os.Stderr, "helper %q is registered but no test uses it\n", name)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// helper returns a Spec named name that runs helper h with args.
func helper(name, h string, args ...string) Spec {
	if _, ok := helpers[h]; !ok {
		panic("no helper " + h)
	}
	usedMu.Lock()
	used[h] = true
	usedMu.Unlock()
	return Spec{
		Name: name,
		Argv: append([]string{testExe}, args...),
		Env:  []string{childEnv + "=" + h},
	}
}

// testDeadline bounds every wait in these tests; it is generous on purpose: the
// tests assert on events, and the deadline only turns a hang into a failure.
const testDeadline = 30 * time.Second

// recEntry is one thing the sinkRec saw, in order.
type recEntry struct {
	name  string // the process, for a line
	line  string // without '\n'; "" for an event
	event *Event
}

// sinkRec is a Sink that keeps everything, in the order received, and
// lets a test wait for a condition without sleeping.
type sinkRec struct {
	lineErr  error               // when set, every WriteLines fails with it
	eventErr func(e Event) error // when set, decides Event's answer
	mu       sync.Mutex          // guards the fields below
	log      []recEntry          // lines and events in arrival order
	calls    map[string]int      // WriteLines calls per process
	nlines   map[string]int      // lines recorded per process
	changed  chan struct{}       // signalled (never blocking) on each change
}

func newSinkRec() *sinkRec {
	return &sinkRec{calls: map[string]int{}, nlines: map[string]int{}, changed: make(chan struct{}, 1)}
}

func (r *sinkRec) recorder() *sinkRec { return r }

func (r *sinkRec) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *sinkRec) Lines(name string) LineWriter { return &sinkRecLines{r: r, name: name} }

func (r *sinkRec) Event(e Event) error {
	r.mu.Lock()
	r.log = append(r.log, recEntry{event: &e})
	r.mu.Unlock()
	r.notify()
	if r.eventErr != nil {
		return r.eventErr(e)
	}
	return nil
}

type sinkRecLines struct {
	r    *sinkRec
	name string
}

func (l *sinkRecLines) WriteLines(p []byte) error {
	r := l.r
	if len(p) == 0 || p[len(p)-1] != '\n' {
		panic(fmt.Sprintf("WriteLines(%q): not whole lines", p))
	}
	r.mu.Lock()
	r.calls[l.name]++
	if r.lineErr == nil {
		for _, s := range strings.SplitAfter(string(p[:len(p)-1]), "\n") {
			r.log = append(r.log, recEntry{name: l.name, line: strings.TrimSuffix(s, "\n")})
			r.nlines[l.name]++
		}
	}
	r.mu.Unlock()
	r.notify()
	return r.lineErr
}

// waitFor waits until cond (called with the lock held) holds.
func (r *sinkRec) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(testDeadline)
	defer timer.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-timer.C:
			t.Fatalf("timed out waiting for %s; got:\n%s", what, r.dump())
		}
	}
}

// waitLine waits until process name printed line.
func (r *sinkRec) waitLine(t *testing.T, name, line string) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("%s to print %q", name, line), func() bool {
		return r.indexLocked(func(e recEntry) bool { return e.event == nil && e.name == name && e.line == line }) >= 0
	})
}

// waitSystem waits for a System event with msg.
func (r *sinkRec) waitSystem(t *testing.T, msg string) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("system message %q", msg), func() bool {
		return r.indexLocked(func(e recEntry) bool { return e.event != nil && e.event.Kind == System && e.event.Msg == msg }) >= 0
	})
}

func (r *sinkRec) indexLocked(match func(recEntry) bool) int {
	for i, e := range r.log {
		if match(e) {
			return i
		}
	}
	return -1
}

func (r *sinkRec) index(match func(recEntry) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.indexLocked(match)
}

// events returns the events of kind k (all kinds when k is 0).
func (r *sinkRec) events(k EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.log {
		if e.event != nil && (k == 0 || e.event.Kind == k) {
			out = append(out, *e.event)
		}
	}
	return out
}

// event returns the one event of kind k for name.
func (r *sinkRec) event(t *testing.T, k EventKind, name string) Event {
	t.Helper()
	var found []Event
	for _, e := range r.events(k) {
		if e.Name == name {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d events of kind %d for %s, want 1; got:\n%s", len(found), k, name, r.dump())
	}
	return found[0]
}

// systemMsgs returns the supervisor's messages in order.
func (r *sinkRec) systemMsgs() []string {
	var out []string
	for _, e := range r.events(System) {
		out = append(out, e.Msg)
	}
	return out
}

func (r *sinkRec) writeCalls(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[name]
}

func (r *sinkRec) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.log {
		if e.event == nil {
			fmt.Fprintf(&b, "  %s | %s\n", e.name, e.line)
			continue
		}
		ev := e.event
		fmt.Fprintf(&b, "  event kind=%d name=%q pid=%d code=%d signal=%d err=%v msg=%q\n", ev.Kind, ev.Name, ev.PID, ev.Code, ev.Signal, ev.Err, ev.Msg)
	}
	return b.String()
}

// runHandle is one Run in progress.
type runHandle struct {
	sup    *Supervisor
	rec    *sinkRec
	cancel context.CancelCauseFunc
	done   chan struct{}
	res    Result
	err    error
	extra  []int // grandchildren's pids, checked and cleaned up too
}

// start runs specs under a new Supervisor in the background. Cleanup kills
// whatever the test started that is still alive, by pid and pgid only.
func startRun(t *testing.T, opts Options, specs []Spec) *runHandle {
	t.Helper()
	if opts.Sink == nil {
		opts.Sink = newSinkRec()
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &runHandle{sup: New(opts), rec: opts.Sink.(interface{ recorder() *sinkRec }).recorder(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.res, r.err = r.sup.Run(ctx, specs)
	}()
	t.Cleanup(func() {
		cancel(nil)
		select {
		case <-r.done:
		default:
			r.sup.Kill()
			select {
			case <-r.done:
			case <-time.After(testDeadline / 3):
				r.killAll()
				select {
				case <-r.done:
				case <-time.After(testDeadline / 3):
					t.Error("Run never returned, even with its processes killed")
				}
			}
		}
		// Groups are empty once Run has returned; only grandchildren
		// recorded by pid may be left (a failure checkNothingLeft reports).
		for _, pid := range r.extra {
			if pidAlive(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return r
}

// wait waits for Run to return, failing the test if it does not within the
// testDeadline (and then killing everything, so that the test ends).
func (r *runHandle) wait(t *testing.T) (Result, error) {
	t.Helper()
	timer := time.NewTimer(testDeadline)
	defer timer.Stop()
	select {
	case <-r.done:
		return r.res, r.err
	case <-timer.C:
		r.sup.Kill()
		select {
		case <-r.done:
		case <-time.After(testDeadline / 3):
			// Kill is broken too: stop what we started ourselves, so that
			// the test fails instead of hanging.
			r.killAll()
		}
		t.Fatalf("Run did not return within %v; got:\n%s", testDeadline, r.rec.dump())
		return Result{}, nil
	}
}

// killAll sends SIGKILL to every group the run started and every recorded
// grandchild, by pgid and pid only.
func (r *runHandle) killAll() {
	for _, e := range r.rec.events(Started) {
		if e.PID > 1 {
			syscall.Kill(-e.PID, syscall.SIGKILL) // its own group, which only we created
		}
	}
	for _, pid := range r.extra {
		if pidAlive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// readPid reads a pid file a helper wrote (before it printed "ready") and
// remembers the pid for the leak check and the cleanup.
func (r *runHandle) readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil || pid <= 1 {
		t.Fatalf("pid file %s holds %q", path, b)
	}
	r.extra = append(r.extra, pid)
	return pid
}

// checkNothingLeft asserts that every process the run started, its process
// group and every recorded grandchild are gone.
func (r *runHandle) checkNothingLeft(t *testing.T) {
	t.Helper()
	for _, e := range r.rec.events(Started) {
		if pidAlive(e.PID) {
			t.Errorf("%s (pid %d) still alive after Run returned", e.Name, e.PID)
		}
		if err := syscall.Kill(-e.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d of %s still has members after Run returned (kill: %v)", e.PID, e.Name, err)
		}
	}
	for _, pid := range r.extra {
		if pidAlive(pid) {
			t.Errorf("grandchild %d still alive after Run returned", pid)
		}
	}
}

// alive reports whether pid is a live process: it exists and is not a
// zombie (a zombie of another parent, such as init, is dead for our purpose).
func pidAlive(pid int) bool {
	if pid <= 1 {
		panic("alive: pid <= 1")
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// waitPidGone waits, with a pidfd (no polling), until pid has exited.
func waitPidGone(t *testing.T, pid int) {
	t.Helper()
	if err := pidGone(pid, testDeadline); err != nil {
		t.Fatal(err)
	}
}

// pidGone waits up to d for pid to exit (a zombie has exited).
func pidGone(pid int, d time.Duration) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(d.Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll pidfd of %d: %w", pid, err)
		}
		if n == 0 {
			return fmt.Errorf("process %d still running after %v", pid, d)
		}
		return nil
	}
}

// ownChildren lists this process's children, zombies included, from /proc.
func ownChildren(t *testing.T) []int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread is gone
		}
		for _, f := range strings.Fields(string(b)) {
			pids = append(pids, atoi(f))
		}
	}
	sort.Ints(pids)
	return pids
}
