package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Subreaper makes this process a child subreaper: a descendant orphaned by
// its parent's death is reparented to it rather than to init, so nothing
// started below it can leave its tree, not even a double fork into a new
// session. The setting lasts for the life of the process. Options.Reap uses
// it too (becomeSubreaper).
func Subreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become a child subreaper: %w", err)
	}
	return nil
}

// KillTree sends SIGKILL to every descendant of this process and reaps
// its children until it has none left. It is for a child subreaper (see
// Subreaper) that is about to exit: it reaps every child, taking their
// exit statuses from anyone else waiting for them.
//
// For a subreaper, having no child means having no descendant: whatever
// outlives its parent comes here. So one pass of killing what the process
// tree shows, then reaping, repeated until the kernel says there is no
// child (ECHILD), leaves nothing behind, even a process forked between the
// listing and the kill of its parent (a process with SIGKILL pending forks
// no more): it is reparented here and killed by the next pass. It waits in
// the kernel for each exit, never polls, and returns at once when there
// was no child to begin with. A process the kernel cannot kill yet (in an
// uninterruptible sleep) holds it up until it can.
func KillTree() error {
	self := os.Getpid()
	var ws unix.WaitStatus
	for {
		// Reap what has exited; stop at ECHILD (done) or at children
		// that are all alive.
		for {
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if errors.Is(err, unix.ECHILD) {
				return nil
			}
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return fmt.Errorf("kill the process tree: wait: %w", err)
			}
			if pid == 0 {
				break
			}
		}
		for _, c := range descendants(self) {
			killChild(c.pid, c.parent, self)
		}
		for {
			_, err := unix.Wait4(-1, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.ECHILD) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("kill the process tree: wait: %w", err)
			}
			break
		}
	}
}

// child is a process and the parent it was listed under.
type child struct{ pid, parent int }

// descendants lists the processes below root, parents before their
// children, as the kernel's child lists show them now. A list may miss a
// child forked meanwhile; KillTree's next pass finds it.
func descendants(root int) []child {
	list := childrenOf
	if !hasChildLists() {
		list = scanProc()
	}
	var out []child
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range list(p) {
			if c <= 1 || c == root {
				continue
			}
			out = append(out, child{pid: c, parent: p})
			queue = append(queue, c)
		}
	}
	return out
}

// hasChildLists reports whether this kernel has /proc/PID/task/TID/children
// (CONFIG_PROC_CHILDREN, set by the common distributions).
func hasChildLists() bool {
	_, err := os.Stat("/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/children")
	return !errors.Is(err, fs.ErrNotExist)
}

// childrenOf lists pid's children: those of each of its threads, since the
// kernel files a child under the thread that forked it.
func childrenOf(pid int) []int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil // gone
	}
	var out []int
	for _, t := range tasks {
		out = appendChildren(out, dir+"/"+t.Name()+"/children")
	}
	return out
}

// scanProc reads every process's parent from /proc/PID/stat, for kernels
// without child lists, and returns a lookup of children by parent.
func scanProc() func(int) []int {
	byParent := map[int][]int{}
	ents, err := os.ReadDir("/proc")
	if err == nil {
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if ppid, ok := parentPid(pid); ok {
				byParent[ppid] = append(byParent[ppid], pid)
			}
		}
	}
	return func(p int) []int { return byParent[p] }
}

// parentPid reads pid's parent from /proc/PID/stat.
func parentPid(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// killChild sends SIGKILL to pid, listed as a child of parent, through a
// pidfd, and only if it is still parent's child or has been reparented to
// self: between the listing and the kill, pid may have exited, been reaped
// by parent and been reused by a process outside the tree. A kernel
// without pidfds (before 5.3) gets a plain kill after the same check.
func killChild(pid, parent, self int) {
	if pid <= 1 || pid == self {
		return
	}
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case err == nil:
		defer unix.Close(fd)
	case errors.Is(err, unix.ENOSYS):
		fd = -1
	default:
		return // gone
	}
	if ppid, ok := parentPid(pid); !ok || (ppid != parent && ppid != self) {
		return
	}
	if fd >= 0 {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		return
	}
	unix.Kill(pid, unix.SIGKILL)
}
