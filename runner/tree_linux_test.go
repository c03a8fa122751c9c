package runner

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// treeEnv, when set, names the directory where TestKillTree, run in a
// process of its own, leaves the pid files of what it started.
const treeEnv = "GANGER_RUNNER_TREE_DIR"

// TestKillTree: a subreaper's KillTree leaves no descendant, neither a
// grandchild in its parent's group nor an escapee that double-forked into
// a session of its own and ignores SIGTERM, and reaps them all.
//
// Subreaper lasts for the life of the process and KillTree kills and reaps
// every child, the other tests' too: the body runs in an invocation of the
// test binary of its own, and the outer test checks its verdict and that
// nothing it started survived it.
func TestKillTree(t *testing.T) {
	if dir := os.Getenv(treeEnv); dir != "" {
		killTree(t, dir)
		return
	}
	helper("", "group") // the inner run uses them; mark them used here
	helper("", "escape")
	t.Parallel()
	runAlone(t, "TestKillTree", treeEnv, 4)
}

// killTree is TestKillTree's body, in its own process.
func killTree(t *testing.T, dir string) {
	if err := Subreaper(); err != nil {
		t.Skip(err)
	}
	if err := KillTree(); err != nil { // nothing below yet: returns at once
		t.Fatal(err)
	}
	start := func(s Spec, pidfile string) int {
		cmd := exec.Command(s.Argv[0], s.Argv[1:]...)
		cmd.Env = s.Env
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		writePid(filepath.Join(dir, pidfile), cmd.Process.Pid)
		sc := bufio.NewScanner(out)
		for sc.Scan() && sc.Text() != "ready" {
		}
		// Never waited for here: KillTree reaps it.
		return cmd.Process.Pid
	}
	leader := start(helper("", "group", "ignore", "ignore", filepath.Join(dir, "grandchild.pid")), "leader.pid")
	start(helper("", "escape", filepath.Join(dir, "escapee.pid"), "ignore"), "escaper.pid")
	pids := map[string]int{"leader": leader}
	for _, name := range []string{"grandchild", "escapee", "escaper"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".pid"))
		if err != nil {
			t.Fatal(err)
		}
		pids[name] = atoi(string(b))
	}
	if ppid := parentOf(t, pids["escapee"]); ppid != os.Getpid() {
		t.Fatalf("escapee %d has parent %d, want this subreaper %d", pids["escapee"], ppid, os.Getpid())
	}
	if err := KillTree(); err != nil {
		t.Fatal(err)
	}
	for name, pid := range pids {
		if procExists(pid) { // reaped too: no zombie either
			t.Errorf("%s %d still exists after KillTree", name, pid)
		}
	}
	if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); !errors.Is(err, unix.ECHILD) {
		t.Errorf("wait after KillTree: %v, want ECHILD", err)
	}
}
