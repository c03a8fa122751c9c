package app

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gangerdev/ganger/runner/journal"

	"github.com/gangerdev/ganger/runner"
)

// The tests of alerts do not run in parallel: a running formation reaps
// every child of the test binary it does not know (runner.Options.Reap),
// the hooks of another test's alerter included.

// alertDeadline bounds every wait; it is never reached when the code works.
const alertDeadline = 20 * time.Second

// watched is a writer a test can wait on for a line.
type watched struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newWatched() *watched { return &watched{changed: make(chan struct{}, 1)} }

func (w *watched) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *watched) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until the text written matches re (multi-line).
func (w *watched) waitFor(t *testing.T, re string) {
	t.Helper()
	rx := regexp.MustCompile("(?m)" + re)
	timer := time.NewTimer(alertDeadline)
	defer timer.Stop()
	for !rx.MatchString(w.String()) {
		select {
		case <-w.changed:
		case <-timer.C:
			t.Fatalf("timed out waiting for %q; got:\n%s", re, w.String())
		}
	}
}

// running is a formation started by Start in the background.
type running struct {
	root   string
	out    *watched
	warn   *watched
	cancel context.CancelFunc
	done   chan error
}

// startFormation writes files into a new app root and starts it with so,
// with PATH as the whole environment. Cleanup stops it.
func startFormation(t *testing.T, files map[string]string, path string, so StartOptions) *running {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "bin/") {
			mode = 0o755
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), mode); err != nil {
			t.Fatal(err)
		}
	}
	path = strings.ReplaceAll(path, "ROOT", root)
	a, err := Load(Options{Root: root, Environ: []string{"PATH=" + path}, Timeout: DefaultTimeout})
	if err != nil {
		t.Fatal(err)
	}
	r := &running{root: root, out: newWatched(), warn: newWatched(), done: make(chan error, 1)}
	so.Output = Output{Out: r.out, Prefix: true}
	so.Warn = r.warn
	so.NoPortCheck = true
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- a.Start(ctx, so) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends the formation and returns Start's error.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for a second call
		return err
	case <-time.After(alertDeadline):
		t.Fatalf("Start did not return; got:\n%s", r.out.String())
	}
	return nil
}

// sleepPath is sleep's absolute path, for Procfiles run without ganger's
// PATH.
func sleepPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep on PATH")
	}
	return p
}

func TestOnCrash(t *testing.T) {
	hook := `'printf "%s %s %s %s %s\n" "$GANGER_PROCESS" "$GANGER_EXIT_CODE" "$GANGER_EVENT" "$FROM_DOTENV" "$GANGER_LOG" > "alert-$GANGER_PROCESS.tmp";` +
		` cat "$GANGER_LOG" >> "alert-$GANGER_PROCESS.tmp"; mv "alert-$GANGER_PROCESS.tmp" "alert-$GANGER_PROCESS.txt"; echo "hook done for $GANGER_PROCESS"'`
	r := startFormation(t, map[string]string{
		"Procfile": "idle: exec " + sleepPath(t) + " 600\n" +
			"worker: echo worker line one; echo worker line two; exit 3\n" +
			"killer: echo about to die; kill -9 $$\n",
		"ganger.yml": "on_crash: " + hook + "\n",
		".env":       "FROM_DOTENV=yes\n",
	}, os.Getenv("PATH"), StartOptions{Policies: Policies{CanDie: []string{"worker", "killer"}}})
	r.out.waitFor(t, `^on_crash +\| hook done for worker\.1$`)
	r.out.waitFor(t, `^on_crash +\| hook done for killer\.1$`)

	for name, want := range map[string][]string{
		"worker.1": {"worker.1 3 exited yes " + filepath.Join(r.root, ".ganger", "crash", "worker.1.log"), " worker line one", " worker line two", " exited with code 3"},
		"killer.1": {"killer.1 137 exited yes " + filepath.Join(r.root, ".ganger", "crash", "killer.1.log"), " about to die", " terminated by SIGKILL"},
	} {
		b, err := os.ReadFile(filepath.Join(r.root, "alert-"+name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if lines[0] != want[0] {
			t.Errorf("%s: the hook saw %q, want %q", name, lines[0], want[0])
		}
		// The log holds the process's last lines, "15:04:05 text" each.
		var texts []string
		for _, l := range lines[1:] {
			if len(l) > len("15:04:05") {
				texts = append(texts, l[len("15:04:05"):])
			}
		}
		for _, w := range want[1:] {
			found := false
			for _, l := range texts {
				found = found || l == w
			}
			if !found {
				t.Errorf("%s: GANGER_LOG lacks %q:\n%s", name, w, b)
			}
		}
		fi, err := os.Stat(filepath.Join(r.root, ".ganger", "crash", name+".log"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s's log: %v, mode %v, want 0600", name, err, fi.Mode())
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	// idle.1 was stopped by ganger: no alert.
	if strings.Contains(r.out.String(), "hook done for idle.1") {
		t.Errorf("an alert for a process ganger stopped:\n%s", r.out.String())
	}
}

func TestOnCrashFailing(t *testing.T) {
	r := startFormation(t, map[string]string{
		"Procfile":   "idle: exec " + sleepPath(t) + " 600\nworker: exit 1\n",
		"ganger.yml": "on_crash: echo failing for $GANGER_PROCESS; exit 3\n",
	}, os.Getenv("PATH"), StartOptions{Policies: Policies{CanDie: []string{"worker"}}})
	r.out.waitFor(t, `^on_crash +\| failing for worker\.1$`)
	r.out.waitFor(t, `^system +\| on_crash for worker\.1 failed: exit 3$`)
	select {
	case err := <-r.done:
		t.Fatalf("the formation stopped (%v) after a failing hook:\n%s", err, r.out.String())
	default:
	}
	if strings.Contains(r.out.String(), "sending SIGTERM") {
		t.Errorf("the formation is stopping after a failing hook:\n%s", r.out.String())
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestNotify(t *testing.T) {
	r := startFormation(t, map[string]string{
		"Procfile":        "idle: exec " + sleepPath(t) + " 600\nworker: exit 3\n",
		"bin/notify-send": "#!/bin/sh\nprintf '%s\\n' \"$@\" > notified.txt\necho notified\n",
	}, "ROOT/bin:"+os.Getenv("PATH"), StartOptions{Policies: Policies{CanDie: []string{"worker"}}, Alerts: Alerts{Notify: new(true)}})
	r.out.waitFor(t, `^notify +\| notified$`)
	b, err := os.ReadFile(filepath.Join(r.root, "notified.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "ganger: worker.1 crashed\nexited with code 3 (" + r.root + ")\n"; string(b) != want {
		t.Errorf("notify-send got %q, want %q", b, want)
	}
	if w := r.warn.String(); w != "" {
		t.Errorf("warned %q", w)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestNotifyWithoutTool(t *testing.T) {
	r := startFormation(t, map[string]string{
		"Procfile":   "idle: exec " + sleepPath(t) + " 600\n",
		"ganger.yml": "notify: true\n",
	}, "ROOT/bin", StartOptions{})
	r.out.waitFor(t, `^idle\.1 +\| started with pid`)
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	want := "ganger: warning: --notify: neither notify-send nor osascript is on PATH; no desktop notifications\n"
	if w := r.warn.String(); w != want {
		t.Errorf("warned %q, want %q", w, want)
	}
}

// sinkLog is a Sink that keeps what it is given, for the alerter's own
// tests.
type sinkLog struct {
	*watched
}

func (s sinkLog) Lines(name string) runner.LineWriter {
	return lineFunc(func(p []byte) error {
		for _, l := range strings.SplitAfter(string(p), "\n") {
			if l != "" {
				s.Write([]byte(name + " | " + l))
			}
		}
		return nil
	})
}

func (s sinkLog) Event(e runner.Event) error {
	if e.Kind == runner.System {
		s.Write([]byte("system | " + e.Msg + "\n"))
	}
	return nil
}

type lineFunc func([]byte) error

func (f lineFunc) WriteLines(p []byte) error { return f(p) }

// TestAlertEvents checks which events alert: not an exit ganger asked for,
// not a oneshot's exit 0, but any other exit and a restart policy giving
// up (with the last exit's code).
func TestAlertEvents(t *testing.T) {
	out := newWatched()
	al := newAlerter(sinkLog{out}, alertOptions{
		root: t.TempDir(), environ: []string{"PATH=" + os.Getenv("PATH")},
		onCrash: `echo "alert $GANGER_PROCESS $GANGER_EXIT_CODE $GANGER_EVENT"`,
	})
	al.setSpecs([]runner.Spec{{Name: "migrate.1", Oneshot: true}, {Name: "web.1"}})
	for _, e := range []runner.Event{
		{Kind: runner.Exited, Name: "web.1", Code: 143, Signal: 15, Asked: true},
		{Kind: runner.Exited, Name: "migrate.1", Code: 0},
		{Kind: runner.Started, Name: "web.1", PID: 42},
		{Kind: runner.System, Msg: "restarting web.1 in 1s"},
		{Kind: runner.Exited, Name: "migrate.1", Code: 2},
		{Kind: runner.Exited, Name: "web.1", Code: 0},
		{Kind: runner.Exited, Name: "web.1", Code: 7},
		{Kind: runner.System, Msg: "giving up on web.1: it exited 5 times within 1m", GaveUp: "web.1"},
	} {
		al.Event(e)
	}
	al.Close()
	want := "on_crash | alert migrate.1 2 exited\non_crash | alert web.1 0 exited\non_crash | alert web.1 7 exited\non_crash | alert web.1 7 gave-up\n"
	got := ""
	for l := range strings.Lines(out.String()) {
		if strings.HasPrefix(l, "on_crash | ") {
			got += l
		}
	}
	if got != want {
		t.Errorf("alerts:\n%s\nwant\n%s", got, want)
	}
}

// TestAlertHookKilledAtStop checks that a hook still running after the
// formation has stopped is killed, its group included, after the grace
// period, and said so.
func TestAlertHookKilledAtStop(t *testing.T) {
	root := t.TempDir()
	out := newWatched()
	al := newAlerter(sinkLog{out}, alertOptions{
		root: root, environ: []string{"PATH=" + os.Getenv("PATH")}, grace: 100 * time.Millisecond,
		onCrash: `sleep 600 & echo $! > child.pid; echo started; wait`,
	})
	al.Event(runner.Event{Kind: runner.Exited, Name: "web.1", Code: 1})
	out.waitFor(t, `^on_crash \| started$`)
	al.Close()
	out.waitFor(t, `^system \| on_crash for web\.1 failed: killed: still running 100ms after ganger stopped$`)
	b, err := os.ReadFile(filepath.Join(root, "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	// SIGKILL has been sent; the child is gone once the kernel has
	// delivered it. Nothing announces the end of a process that is not
	// ours, so its /proc entry is looked at until a deadline.
	pid := strings.TrimSpace(string(b))
	for deadline := time.Now().Add(10 * time.Second); pidRunning(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the hook's child %s is left running", pid)
		}
	}
}

// pidRunning reports whether pid is a live process (a zombie is not).
func pidRunning(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func TestInstallAlertsFlagWins(t *testing.T) {
	a := testApp(t, "web: x\n")
	cf := testConfig(t, "notify: true\n")
	if _, al := a.installAlerts(sinkLog{newWatched()}, journal.New(journal.Options{}), cf, nil, Alerts{Notify: new(false)}, nil); al != nil {
		al.Close()
		t.Error("--notify=false did not win over ganger.yml's notify: true")
	}
	cf = testConfig(t, "on_crash: echo\n")
	_, al := a.installAlerts(sinkLog{newWatched()}, journal.New(journal.Options{}), cf, nil, Alerts{}, nil)
	if al == nil {
		t.Fatal("no alerter for ganger.yml's on_crash")
	}
	defer al.Close()
	if al.o.onCrash != "echo" || al.o.notify {
		t.Errorf("alerter options %+v", al.o)
	}
}

// TestOnCrashSymlinkedAppDir: a .ganger that is a symlink (a repository can
// commit one) is refused, as everywhere else: the crash log is not written
// through it, and the hook still runs, told why.
func TestOnCrashSymlinkedAppDir(t *testing.T) {
	elsewhere := t.TempDir()
	r := startFormation(t, map[string]string{
		"Procfile":   "worker: ln -s " + elsewhere + " .ganger && exit 3\n",
		"ganger.yml": `on_crash: 'echo "hook done, log [$GANGER_LOG]"'` + "\n",
	}, os.Getenv("PATH"), StartOptions{Policies: Policies{CanDie: []string{"worker"}}})
	r.out.waitFor(t, `^on_crash +\| hook done, log \[\]$`)
	r.out.waitFor(t, `^system +\| on_crash for worker\.1: .*symlink`)
	if _, err := os.Lstat(filepath.Join(elsewhere, "crash")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the crash log went through the symlinked .ganger: %v", err)
	}
}
