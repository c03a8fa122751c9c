package runner

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestExitWatch has forty children exit at once (more than one epoll_wait
// takes) and expects each reported once; one added after close is not.
func TestExitWatch(t *testing.T) {
	w := newExitWatch()
	if w == nil {
		t.Skip("no epoll here")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	const n = 40
	exited := make(chan int, n)
	var cmds []*exec.Cmd
	defer func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}()
	for i := range n {
		// Each waits for the pipe to close, then exits.
		cmd := exec.Command("/bin/sh", "-c", "read x")
		cmd.Stdin = pr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		pidfd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !w.add(pidfd, func() { exited <- i }) {
			unix.Close(pidfd)
			t.Fatal("add refused a fresh child's pidfd")
		}
	}
	pr.Close()
	select {
	case i := <-exited:
		t.Fatalf("child %d reported before the pipe closed", i)
	default:
	}
	pw.Close()
	seen := map[int]bool{}
	deadline := time.After(testDeadline)
	for range n {
		select {
		case i := <-exited:
			if seen[i] {
				t.Fatalf("child %d reported twice", i)
			}
			seen[i] = true
		case <-deadline:
			t.Fatalf("%d of %d exits reported", len(seen), n)
		}
	}
	for _, c := range cmds {
		if err := c.Wait(); err == nil || c.ProcessState.ExitCode() != 1 {
			t.Errorf("pid %d: %v, want exit status 1 (read at EOF)", c.Process.Pid, err)
		}
	}
	cmds = nil

	// After close nothing is reported, and the child is still the
	// caller's to reap.
	w.close()
	late := exec.Command("/bin/sh", "-c", "exit 3")
	if err := late.Start(); err != nil {
		t.Fatal(err)
	}
	pidfd, err := unix.PidfdOpen(late.Process.Pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	if w.add(pidfd, func() { t.Error("reported after close") }) {
		t.Error("add after close succeeded")
	} else if err := unix.Close(pidfd); err != nil {
		t.Errorf("the refused pidfd was not left to the caller: %v", err)
	}
	if err := late.Wait(); late.ProcessState.ExitCode() != 3 {
		t.Errorf("late child: %v, want exit status 3", err)
	}
}
