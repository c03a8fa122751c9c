//go:build unix

package buildpack

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// defaultPath is the PATH used when the caller's environment has none.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// waitDelay bounds how long Wait waits for output pipes held by leftover
// grandchildren, and how long a cancelled group gets after SIGTERM.
const waitDelay = 5 * time.Second

// commandContext is exec.CommandContext with the child in its own process
// group; cancelling ctx sends SIGTERM to the whole group, then SIGKILL to
// the leader after waitDelay. Stdin is /dev/null.
func commandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil || cmd.Process.Pid <= 1 {
			return nil
		}
		// The leader is not reaped yet (Cancel runs before Wait returns),
		// so its pid is still our group's id.
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		if err == syscall.ESRCH {
			return os.ErrProcessDone
		}
		return err
	}
	cmd.WaitDelay = waitDelay
	return cmd
}

// lockFile takes an exclusive, non-blocking lock on path, creating it. The
// lock is released by closing the returned file.
func lockFile(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, false, nil
		}
		return nil, false, err
	}
	return f, true, nil
}
