//go:build linux

package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// reapEnv, when set, names the directory where TestReapOrphans, run in a
// process of its own, leaves the escapees' pid files.
const reapEnv = "GANGER_RUNNER_REAP_DIR"

// TestReapOrphans checks Options.Reap: a grandchild that double-forks into
// a new session (out of the process group) is adopted, stopped and reaped.
//
// Reap makes the calling process a child subreaper for the rest of its life
// and reaps every child it does not own, which would steal exit statuses
// from the other tests' children (they run in parallel). So the test body
// runs in a separate invocation of the test binary that runs this test
// alone; the outer test checks its verdict and that no escapee survived it.
func TestReapOrphans(t *testing.T) {
	if dir := os.Getenv(reapEnv); dir != "" {
		reapOrphans(t, dir)
		return
	}
	helper("", "escape") // the inner run uses it; mark it used here
	t.Parallel()
	runAlone(t, "TestReapOrphans", reapEnv, 3)
}

// runAlone runs the test name alone in an invocation of the test binary of
// its own, with env naming a new directory where the inner run leaves the
// pid files of what it started. It fails t if the inner run did not pass,
// if any of those processes outlived it (killing it), or if it left other
// than want pid files.
func runAlone(t *testing.T, name, env string, want int) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*testDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, testExe, "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+dir)
	out, err := cmd.CombinedOutput()
	// Whatever the inner run did, nothing it started may outlive it.
	files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		pid, perr := strconv.Atoi(string(b))
		if perr != nil || pid <= 1 {
			continue
		}
		if pidAlive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d (%s) outlived the run", pid, filepath.Base(f))
		}
	}
	if err != nil {
		t.Fatalf("inner run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("inner run did not pass:\n%s", out)
	}
	if len(files) != want {
		t.Errorf("inner run left %d pid files, want %d:\n%s", len(files), want, out)
	}
}

// reapOrphans is TestReapOrphans's body, in its own process.
func reapOrphans(t *testing.T, dir string) {
	tests := []struct {
		name    string
		mode    string // how the escapee takes SIGTERM, or exit
		timeout time.Duration
		kill    bool // SIGKILL needed
	}{
		{"escapee dies on TERM", "die", 10 * time.Minute, false},
		{"escapee ignores TERM", "ignore", 200 * time.Millisecond, true},
		{"escapee exits while running", "exit", 10 * time.Minute, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidfile := filepath.Join(dir, strconv.Itoa(i)+".pid")
			r := startRun(t, Options{Timeout: tt.timeout, Reap: true}, []Spec{
				helper("web.1", "escape", pidfile, tt.mode),
			})
			r.rec.waitLine(t, "web.1", "ready")
			pid := r.readPid(t, pidfile)
			if tt.mode == "exit" {
				// It becomes our zombie; the supervisor must reap it while
				// running, not only at the end.
				waitPidGone(t, pid)
				waitReaped(t, pid)
			} else {
				if sid, _ := unix.Getsid(pid); sid != pid {
					t.Fatalf("escapee %d is in session %d, want its own", pid, sid)
				}
				if ppid := parentOf(t, pid); ppid != os.Getpid() {
					t.Fatalf("escapee %d has parent %d, want this subreaper %d", pid, ppid, os.Getpid())
				}
			}
			r.cancel(nil)
			res, err := r.wait(t)
			if err != nil || res != (Result{Interrupted: true}) {
				t.Fatalf("Run = %+v, %v; want Interrupted", res, err)
			}
			// We are its parent: gone means stopped and reaped.
			if procExists(pid) {
				t.Errorf("escapee %d still exists (alive or zombie) after Run returned", pid)
			}
			if left := ownChildren(t); len(left) != 0 {
				t.Errorf("children left after Run returned (zombies included): %v", left)
			}
			msgs := r.rec.systemMsgs()
			killed := len(msgs) > 0 && msgs[len(msgs)-1] == "sending SIGKILL to all processes"
			if killed != tt.kill {
				t.Errorf("system messages = %q; want SIGKILL sent: %v", msgs, tt.kill)
			}
			r.checkNothingLeft(t)
		})
	}
}

// waitReaped waits until pid, already exited, has been reaped by the
// supervisor. Nothing announces a reap to a third party, so this polls,
// with a testDeadline.
func waitReaped(t *testing.T, pid int) {
	t.Helper()
	end := time.Now().Add(testDeadline)
	for procExists(pid) {
		if time.Now().After(end) {
			t.Fatalf("exited orphan %d not reaped within %v", pid, testDeadline)
		}
		time.Sleep(time.Millisecond)
	}
}

// procExists reports whether pid exists at all, zombie included.
func procExists(pid int) bool {
	return syscall.Kill(pid, 0) != syscall.ESRCH
}

func parentOf(t *testing.T, pid int) int {
	t.Helper()
	ppid, ok := parentPid(pid)
	if !ok {
		t.Fatalf("cannot read the parent of %d", pid)
	}
	return ppid
}
