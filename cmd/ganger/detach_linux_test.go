package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// detachApp is an app root for the tests of start -D, with the
// environment its ganger commands run with: the test binary's PATH (ganger
// and fakeproc on it), a control socket directory of its own.
type detachApp struct {
	t    *testing.T
	root string
	env  []string
}

func newDetachApp(t *testing.T, files map[string]string) *detachApp {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir(), "TERM=dumb",
		"GANGER_NO_PORT_CHECK=true", "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"),
	}
	// Whatever happens, the detached start ends with the test (first
	// registered, so it runs after the other cleanups).
	t.Cleanup(func() { stopDetached(root) })
	return &detachApp{t: t, root: root, env: env}
}

// ganger runs ganger args in the app root and returns its stdout, stderr
// and exit code.
func (a *detachApp) ganger(args ...string) (string, string, int) {
	a.t.Helper()
	cmd := exec.Command("ganger", args...)
	cmd.Dir, cmd.Env = a.root, a.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		a.t.Fatalf("ganger %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// must runs ganger args and fails the test unless it exits 0.
func (a *detachApp) must(args ...string) string {
	a.t.Helper()
	out, errOut, code := a.ganger(args...)
	if code != 0 {
		a.t.Fatalf("ganger %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// pids are the pids ganger ps --json gives, by process name.
func (a *detachApp) pids() map[string]int {
	a.t.Helper()
	var procs []struct {
		Name string `json:"name"`
		PID  int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(a.must("ps", "--json")), &procs); err != nil {
		a.t.Fatal(err)
	}
	m := map[string]int{}
	for _, p := range procs {
		m[p.Name] = p.PID
	}
	return m
}

// attach runs ganger attach name on a new pseudo-terminal and returns the
// terminal's master (what the user types and sees), the screen, and the
// command's exit code once it ends.
func (a *detachApp) attach(name string) (*os.File, *ptyScreen, <-chan int) {
	a.t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		a.t.Skipf("no pseudo-terminal: %v", err)
	}
	a.t.Cleanup(func() { m.Close() })
	if err := pty.Setsize(m, &pty.Winsize{Cols: 80, Rows: 24}); err != nil {
		a.t.Fatal(err)
	}
	cmd := exec.Command("ganger", "attach", name)
	cmd.Dir, cmd.Env = a.root, a.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s, s, s
	if err := cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	s.Close()
	done := make(chan int, 1)
	go func() {
		cmd.Wait()
		done <- cmd.ProcessState.ExitCode()
	}()
	return m, watchScreen(m), done
}

// quit runs ganger quit and checks that nothing is left: the processes
// (pids), the lock, the socket; a second quit fails.
func (a *detachApp) quit(pids map[string]int) {
	a.t.Helper()
	lock, err := os.ReadFile(filepath.Join(a.root, ".ganger", "start.lock"))
	if err != nil {
		a.t.Fatal(err)
	}
	_, socket, _ := strings.Cut(strings.TrimSpace(string(lock)), "\n")
	if out := a.must("quit"); out != "" {
		a.t.Errorf("quit printed %q", out)
	}
	for name, pid := range pids {
		if pid <= 1 {
			a.t.Fatalf("%s has pid %d", name, pid)
		}
		if err := waitGone(pid, scriptDeadline); err != nil {
			a.t.Errorf("%s (pid %d) after quit: %v", name, pid, err)
		}
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			a.t.Errorf("the process group of %s (%d) still has members after quit (kill: %v)", name, pid, err)
		}
	}
	for _, path := range []string{filepath.Join(a.root, ".ganger", "start.lock"), socket} {
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			a.t.Errorf("%s is still there after quit (%v)", path, err)
		}
	}
	if _, errOut, code := a.ganger("quit"); code != 1 || !strings.Contains(errOut, "no ganger is running") {
		a.t.Errorf("a second quit: exit %d, stderr %q; want 1, no ganger is running", code, errOut)
	}
}

// TestDetachFromTerminal starts ganger start -D from a shell whose
// controlling terminal is a pseudo-terminal, then hangs that terminal up
// (closes its master, and sends SIGHUP to the shell's session): the
// detached start keeps running and answering. Its processes got terminals
// that take input, so that ganger attach drives a real REPL: print(6*7)
// answers 42, Ctrl-] detaches and leaves it running. ganger quit then
// leaves nothing.
func TestDetachFromTerminal(t *testing.T) {
	procfile := "term: fakeproc -isatty -pidfile term.pid\n"
	python, err := exec.LookPath("python3")
	if err == nil {
		procfile += "repl: " + python + " -q -i\n"
	}
	a := newDetachApp(t, map[string]string{
		"Procfile": procfile,
		// Up once term.1 has said what it runs on.
		"ganger.yml": "processes:\n  term:\n    ready: {line: \"stdout=\"}\n",
	})

	shell := exec.Command("sh", "-c", `ganger start -D --no-timestamp; echo "caller exit=$?"; exec cat`)
	shell.Dir, shell.Env = a.root, a.env
	m, err := pty.StartWithSize(shell, &pty.Winsize{Cols: 100, Rows: 30}) // a new session, the pty its terminal
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	shellDone := make(chan error, 1)
	go func() { shellDone <- shell.Wait() }()
	screen := watchScreen(m)
	screen.waitFor(t, "caller exit=0")
	screen.waitFor(t, "ganger: running in the background (pid ")
	screen.waitFor(t, "term.1 | started with pid ")

	// The hangup: the terminal goes (the session's leader gets SIGHUP from
	// the system), and the session's group gets one too.
	m.Close()
	syscall.Kill(-shell.Process.Pid, syscall.SIGHUP)
	werr := recv(t, "the shell's end after the hangup", shellDone)
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGHUP {
		t.Errorf("the shell ended with %v, want killed by SIGHUP", werr)
	}

	ps := a.must("ps")
	if !strings.Contains(ps, "term.1") || !strings.Contains(ps, "running") {
		t.Fatalf("ps after the hangup:\n%s", ps)
	}
	pids := a.pids()
	// The detached start runs under a keeper, the pid the caller named.
	if m := regexp.MustCompile(`running in the background \(pid ([0-9]+)\)`).FindStringSubmatch(screen.String()); m == nil {
		t.Errorf("the caller named no pid")
	} else if inner := readLockPid(t, a.root); inner == pids["term.1"] {
		t.Fatal("the lock names term.1")
	} else if keeper, err := parentOf(inner); err != nil || strconv.Itoa(keeper) != m[1] {
		t.Errorf("the detached start (pid %d) has parent %d (%v), want its keeper %s", inner, keeper, err, m[1])
	}
	// A detached start launched from a terminal gives its processes
	// terminals that take input.
	logs := a.must("logs", "--no-timestamp", "term")
	if !strings.Contains(logs, "term.1 | stdout=terminal stdin=terminal size=") {
		t.Errorf("term.1 does not run on a terminal that takes input; its logs:\n%s", logs)
	}

	if python == "" {
		t.Log("python3 not found: no REPL to attach to")
	} else {
		in, screen, done := a.attach("repl.1")
		screen.waitFor(t, "ganger: attached to repl.1; press Ctrl-] to detach")
		if _, err := in.Write([]byte("print(6*7)\r")); err != nil {
			t.Fatal(err)
		}
		screen.waitFor(t, "42")
		if _, err := in.Write([]byte{detachKey}); err != nil {
			t.Fatal(err)
		}
		if code := recv(t, "attach's end after Ctrl-]", done); code != 0 {
			t.Errorf("attach after Ctrl-]: exit %d, want 0", code)
		}
		screen.waitFor(t, "ganger: detached from repl.1; it keeps running")
		if ps := a.must("ps"); !regexp.MustCompile(`(?m)^repl\.1 +running `).MatchString(ps) {
			t.Errorf("repl.1 after the detach:\n%s", ps)
		}
	}
	a.quit(pids)
}

// readLockPid is the pid of the start that holds root's lock.
func readLockPid(t *testing.T, root string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".ganger", "start.lock"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 1 {
		t.Fatalf("lock file holds %q", b)
	}
	return pid
}

// TestAttachTTYConfig: in a detached start launched without a terminal, a
// process with tty: true in ganger.yml can be attached (what is typed
// reaches it); one without says so, and how to get one.
func TestAttachTTYConfig(t *testing.T) {
	a := newDetachApp(t, map[string]string{
		"Procfile":   "echo: cat\nplain: fakeproc\n",
		"ganger.yml": "processes:\n  echo:\n    tty: true\n",
	})
	if out, errOut, code := a.ganger("start", "-D"); code != 0 {
		t.Fatalf("start -D: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	pids := a.pids()

	_, screen, done := a.attach("plain.1")
	if code := recv(t, "attach to plain.1", done); code != 1 {
		t.Errorf("attach to a process without a terminal: exit %d, want 1", code)
	}
	screen.waitFor(t, "plain.1 does not run on a terminal; hint: set tty: true for it in ganger.yml")

	in, screen, done := a.attach("echo.1")
	screen.waitFor(t, "ganger: attached to echo.1")
	if _, err := in.Write([]byte("hello from attach\r")); err != nil {
		t.Fatal(err)
	}
	screen.waitFor(t, "hello from attach\r\nhello from attach") // the terminal's echo, then cat's
	in.Write([]byte{detachKey})
	if code := recv(t, "attach's end after Ctrl-]", done); code != 0 {
		t.Errorf("attach after Ctrl-]: exit %d, want 0", code)
	}
	a.quit(pids)
}

// String is what the terminal has shown so far.
func (s *ptyScreen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestDetachInterruptedBeforeUp: Ctrl-C (SIGINT) or SIGTERM to start -D
// while its formation is booting stops the detached start, as it would a
// foreground one: the caller exits 130 (143) once it has ended, nothing
// left running.
func TestDetachInterruptedBeforeUp(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			a := newDetachApp(t, map[string]string{
				"Procfile":   "app: fakeproc -pidfile app.pid\n",
				"ganger.yml": "processes:\n  app:\n    ready: {line: never printed}\n",
			})
			cmd := exec.Command("ganger", "start", "-D", "--no-timestamp")
			cmd.Dir, cmd.Env = a.root, a.env
			var errOut bytes.Buffer
			cmd.Stderr = &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() {
				cmd.Wait()
				close(exited)
			}()
			if err := waitPath(filepath.Join(a.root, "app.pid"), exited); err != nil {
				t.Fatalf("app.1 did not start: %v; stderr:\n%s", err, errOut.String())
			}
			b, err := os.ReadFile(filepath.Join(a.root, "app.pid"))
			if err != nil {
				t.Fatal(err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			cmd.Process.Signal(sig)
			select {
			case <-exited:
			case <-time.After(scriptDeadline):
				t.Fatalf("start -D still waiting %s after %v; stderr:\n%s", scriptDeadline, sig, errOut.String())
			}
			if got, want := cmd.ProcessState.ExitCode(), 128+int(sig); got != want {
				t.Errorf("start -D exited %d after %v, want %d; stderr:\n%s", got, sig, want, errOut.String())
			}
			if err := waitGone(pid, scriptDeadline); err != nil {
				t.Errorf("app.1 (pid %d) after %v of start -D: %v", pid, sig, err)
			}
			if _, err := os.Lstat(filepath.Join(a.root, ".ganger", "start.lock")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the lock is still there after %v of start -D (%v)", sig, err)
			}
		})
	}
}
