package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// startProcesses returns the pids of the ganger serving a start (pid) and
// of its keeper, its parent when that is ganger too.
func startProcesses(pid int) []int {
	pids := []int{pid}
	if ppid, err := parentOf(pid); err == nil && ppid > 1 && sameBinary(pid, ppid) {
		pids = append(pids, ppid)
	}
	return pids
}

// parentOf reads pid's parent from /proc.
func parentOf(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The fields after the command's closing parenthesis (it may hold
	// spaces): state, ppid, ...
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	return strconv.Atoi(string(f[1]))
}

// sameBinary reports whether a and b run the same executable.
func sameBinary(a, b int) bool {
	ea, err1 := os.Readlink("/proc/" + strconv.Itoa(a) + "/exe")
	eb, err2 := os.Readlink("/proc/" + strconv.Itoa(b) + "/exe")
	return err1 == nil && err2 == nil && ea == eb
}

// waitExited waits, up to timeout in all, for each of pids to exit, with a
// pidfd (they are not our children; no polling). It reports whether they
// all have.
func waitExited(pids []int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if errors.Is(err, unix.ESRCH) {
			continue
		}
		if err != nil {
			return false
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, int(max(time.Until(deadline), 0)/time.Millisecond))
			if errors.Is(err, unix.EINTR) {
				continue
			}
			unix.Close(fd)
			if err != nil || n == 0 {
				return false
			}
			break
		}
	}
	return true
}
