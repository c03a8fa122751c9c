//go:build linux

package runner

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// group is a helper process leading a process group of its own.
type group struct {
	cmd   *exec.Cmd
	out   *bufio.Reader
	done  chan struct{}    // closed when Wait returned
	state *os.ProcessState // set before done is closed
}

// startGroup starts a helper in a process group of its own, reporting
// SIGUSR1, and waits until it is ready. Cleanup kills the group.
func startGroup(t *testing.T) *group {
	t.Helper()
	s := helper("", "group", "usr1", "none", "-")
	cmd := exec.Command(s.Argv[0], s.Argv[1:]...)
	cmd.Env = s.Env
	// Pdeathsig: should the test binary die (a timeout panic), so does it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &group{cmd: cmd, out: bufio.NewReader(out), done: make(chan struct{})}
	go func() {
		// Not cmd.Wait: it would close the pipe still being read.
		g.state, _ = cmd.Process.Wait()
		close(g.done)
	}()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			if pgid := cmd.Process.Pid; pgid > 1 {
				syscall.Kill(-pgid, syscall.SIGKILL) // the group we created
			}
			<-g.done
		}
	})
	if line, err := g.out.ReadString('\n'); line != "ready\n" {
		t.Fatalf("helper said %q, %v; want ready", line, err)
	}
	return g
}

func (g *group) pgid() int { return g.cmd.Process.Pid }

// waitKilled waits for each of groups to end, as the watchdog's end should
// have made them, and checks that SIGKILL did it.
func waitKilled(t *testing.T, groups ...*group) {
	t.Helper()
	for _, g := range groups {
		select {
		case <-g.done:
		case <-time.After(testDeadline):
			t.Fatalf("group %d still running after the watchdog ended", g.pgid())
		}
		ws, _ := g.state.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("group %d: %v, want killed by SIGKILL", g.pgid(), g.state)
		}
	}
}

// checkSpared checks that the watchdog, now ended, killed none of groups:
// each answers a signal sent after any SIGKILL would have been (a killed
// process would close its output instead).
func checkSpared(t *testing.T, when string, groups ...*group) {
	t.Helper()
	for _, g := range groups {
		syscall.Kill(g.pgid(), syscall.SIGUSR1)
		if line, err := g.out.ReadString('\n'); line != "usr1 leader\n" {
			t.Errorf("group %d was killed %s (read %q, %v)", g.pgid(), when, line, err)
		}
	}
}

// startTestWatchdog starts the real watchdog and writes in to it as ganger
// would (in may hold what ganger never writes), without closing the pipe.
func startTestWatchdog(t *testing.T, in string) *Watchdog {
	t.Helper()
	wd, err := StartWatchdog()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wd.Close() })
	if _, err := wd.w.WriteString(in); err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestWatchdog(t *testing.T) {
	t.Run("kills groups left recorded", func(t *testing.T) {
		t.Parallel()
		a, b := startGroup(t), startGroup(t)
		// Garbage and groups <= 1 are ignored, never signalled.
		wd := startTestWatchdog(t, fmt.Sprintf("+1\n+0\n+-7\n+007\ngarbage\n+\n+%d\n+%d\n", a.pgid(), b.pgid()))
		wd.Add(a.pgid()) // twice is once
		if err := wd.Close(); err != nil {
			t.Fatalf("watchdog: %v", err)
		}
		waitKilled(t, a, b)
	})
	t.Run("spares groups removed", func(t *testing.T) {
		t.Parallel()
		a, b, c := startGroup(t), startGroup(t), startGroup(t)
		// Removing the middle of three keeps the two others; a last line
		// without newline is not acted on.
		wd := startTestWatchdog(t, fmt.Sprintf("+%d\n+%d\n+%d\n-%d\n", c.pgid(), a.pgid(), b.pgid(), a.pgid()))
		wd.Remove(b.pgid())
		wd.Remove(c.pgid())
		if _, err := wd.w.WriteString(fmt.Sprintf("+%d", a.pgid())); err != nil {
			t.Fatal(err)
		}
		if err := wd.Close(); err != nil {
			t.Fatalf("watchdog: %v", err)
		}
		checkSpared(t, "after being removed", a, b, c)
	})
	t.Run("spares every group once cleared", func(t *testing.T) {
		t.Parallel()
		a, b, c := startGroup(t), startGroup(t), startGroup(t)
		// A group added after the clear is guarded again.
		wd := startTestWatchdog(t, fmt.Sprintf("+%d\n+%d\n", a.pgid(), b.pgid()))
		wd.Clear()
		wd.Add(c.pgid())
		if err := wd.Close(); err != nil {
			t.Fatalf("watchdog: %v", err)
		}
		waitKilled(t, c)
		checkSpared(t, "after the clear", a, b)
	})
	t.Run("outlives the terminal's signals", func(t *testing.T) {
		t.Parallel()
		a := startGroup(t)
		wd := startTestWatchdog(t, "")
		wd.Add(a.pgid()) // armed once Add returns
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
			signalGroup(wd.Pid(), sig) // its own group, which it leads
		}
		if err := wd.Close(); err != nil {
			t.Fatalf("watchdog died of a signal it should ignore: %v", err)
		}
		waitKilled(t, a)
	})
}
