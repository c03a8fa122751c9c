package runner

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// procAttr puts the child in its own process group and, on Linux, kills it if
// the thread that started it dies (see spawner).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// becomeSubreaper makes orphaned descendants reparent to this process, so
// they can be found, stopped and reaped.
func becomeSubreaper() bool { return Subreaper() == nil }

// adopted lists the children of this process's main thread, zombies
// included: the orphans reparented to it as a subreaper (the kernel gives
// them to the first live thread of the subreaper, and Go never ends the
// main thread), and any child started from that thread. Children started
// from other threads, such as the spawner's, are listed under those threads
// and not here. It reads one /proc file; an error yields none.
func adopted() []int {
	return appendChildren(nil, "/proc/self/task/"+strconv.Itoa(os.Getpid())+"/children")
}

// appendChildren appends to pids the pids listed in a
// /proc/PID/task/TID/children file; an error appends none.
func appendChildren(pids []int, path string) []int {
	b, err := os.ReadFile(path)
	if err != nil {
		return pids
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// startChild starts path with attr and, with withPidfd, returns a pidfd of
// the child (else -1): the kernel makes it in the same clone, so no second
// call can race with the child's exit.
func startChild(path string, argv []string, attr *syscall.ProcAttr, withPidfd bool) (pid, pidfd int, err error) {
	pidfd = -1
	if withPidfd {
		attr.Sys.PidFD = &pidfd
	}
	pid, _, err = syscall.StartProcess(path, argv, attr)
	if err != nil {
		return 0, -1, err
	}
	return pid, pidfd, nil
}

// waitChild returns once the child pid has exited, without reaping it. With
// a pidfd (which it closes) the wait parks the goroutine in Go's poller
// rather than blocking an OS thread: fifty idle children then cost fifty
// parked goroutines, not fifty threads with their stacks. Without one it
// leaves the waiting to reap.
func waitChild(pid, pidfd int) {
	if pidfd < 0 {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			pidfd = fd
		}
	}
	if pidfd >= 0 {
		// The child cannot be reaped by anyone else before this: only
		// reap reaps it, and orphan reaping skips owned pids.
		waitPidfd(pidfd)
	}
}

// waitPidfd returns once the process behind pidfd has exited, and closes
// pidfd. If the poller cannot take the descriptor it returns at once, and
// the caller's blocking wait does the waiting.
func waitPidfd(pidfd int) {
	if err := unix.SetNonblock(pidfd, true); err != nil {
		unix.Close(pidfd)
		return
	}
	f := os.NewFile(uintptr(pidfd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	// A pidfd polls readable once its process has exited. Read calls the
	// function, and while it returns false waits for the poller.
	rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		return err != nil || info.Signo != 0
	})
}
