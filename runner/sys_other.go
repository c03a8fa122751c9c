//go:build !linux

package runner

import (
	"os"
	"syscall"
)

func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func becomeSubreaper() bool { return false }

func adopted() []int { return nil }

func reapPid(pid int) bool {
	var ws syscall.WaitStatus
	got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	return got == pid || err == syscall.ECHILD
}

// waitChild waits for p to exit, reaps it and returns its state.
func waitChild(p *os.Process) *os.ProcessState { return reap(p) }

// exitWatch is Linux's: here each child is waited for by its own goroutine.
type exitWatch struct{}

func newExitWatch() *exitWatch                       { return nil }
func (w *exitWatch) add(pid int, exited func()) bool { return false }
func (w *exitWatch) close()                          {}
