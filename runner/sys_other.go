//go:build !linux

package runner

import "syscall"

func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func becomeSubreaper() bool { return false }

func adopted() []int { return nil }

// startChild starts path with attr; there are no pidfds here.
func startChild(path string, argv []string, attr *syscall.ProcAttr, withPidfd bool) (pid, pidfd int, err error) {
	pid, _, err = syscall.StartProcess(path, argv, attr)
	return pid, -1, err
}

// waitChild leaves the waiting to reap.
func waitChild(pid, pidfd int) {}

// exitWatch is Linux's: here each child is waited for by its own goroutine.
type exitWatch struct{}

func newExitWatch() *exitWatch                         { return nil }
func (w *exitWatch) add(pidfd int, exited func()) bool { return false }
func (w *exitWatch) close()                            {}
