//go:build linux

package runner

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// spareEnv, when set, names the directory where TestReapSpares, run in a
// process of its own (see TestReapOrphans), leaves the escapees' pid files.
const spareEnv = "GANGER_RUNNER_SPARE_DIR"

// TestReapSpares checks Options.Spare: an adopted child that something
// else in the program waits for is neither stopped nor reaped by the
// supervisor, while the other orphans are.
func TestReapSpares(t *testing.T) {
	if dir := os.Getenv(spareEnv); dir != "" {
		reapSpares(t, dir)
		return
	}
	helper("", "escape")
	t.Parallel()
	runAlone(t, "TestReapSpares", spareEnv, 2)
}

// reapSpares is TestReapSpares's body, in its own process.
func reapSpares(t *testing.T, dir string) {
	spared := filepath.Join(dir, "spared.pid")
	other := filepath.Join(dir, "other.pid")
	var sparedPid atomic.Int64
	r := startRun(t, Options{Timeout: 10 * time.Minute, Reap: true, Spare: func(pid int) bool { return int64(pid) == sparedPid.Load() }}, []Spec{
		helper("web.1", "escape", spared, "die"),
		helper("web.2", "escape", other, "die"),
	})
	r.rec.waitLine(t, "web.1", "ready")
	r.rec.waitLine(t, "web.2", "ready")
	pid, otherPid := r.readPid(t, spared), r.readPid(t, other)
	sparedPid.Store(int64(pid))
	for _, p := range []int{pid, otherPid} {
		if ppid := parentOf(t, p); ppid != os.Getpid() {
			t.Fatalf("escapee %d has parent %d, want this subreaper %d", p, ppid, os.Getpid())
		}
	}
	r.cancel(nil)
	if res, err := r.wait(t); err != nil || res != (Result{Interrupted: true}) {
		t.Fatalf("Run = %+v, %v; want Interrupted", res, err)
	}
	if procExists(otherPid) {
		t.Errorf("the escapee %d that was not spared still exists", otherPid)
	}
	if !pidAlive(pid) {
		t.Fatalf("the spared escapee %d was stopped", pid)
	}
	// Its exit status is still ours to take.
	syscall.Kill(pid, syscall.SIGKILL)
	var ws unix.WaitStatus
	got, err := unix.Wait4(pid, &ws, 0, nil)
	if err != nil || got != pid || ws.Signal() != syscall.SIGKILL {
		t.Errorf("Wait4(%d) = %d, %v, status %v; want its death by SIGKILL", pid, got, err, ws)
	}
}
