package runner

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// pollable returns a non-blocking duplicate of m, read through Go's poller,
// and closes m. pty.Open leaves the master in blocking mode (it calls Fd): a
// blocked read would hold an OS thread per process and ignore Close.
func pollable(m *os.File) (*os.File, error) {
	defer m.Close()
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate the terminal's master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("make the terminal's master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), m.Name()), nil
}

// childPipeSize is the capacity asked for a child's output pipe (Linux's
// default is 64 KiB). A larger pipe lets a busy child write on while ganger
// writes out what it read, and lets ganger read more per call. It is a
// request: an unprivileged process may be held to less, and then the default
// stays.
const childPipeSize = 256 << 10

// GrowPipe asks for f's pipe to hold at least size bytes, so that a writer
// goes on while the reader is busy and each read or write moves more. It
// only grows a pipe, leaves anything that is not a pipe alone, and is a
// request: a system that refuses it keeps the pipe as it was. It goes
// through SyscallConn so that f stays non-blocking (Fd would make it
// blocking).
func GrowPipe(f *os.File, size int) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < size {
			unix.FcntlInt(fd, unix.F_SETPIPE_SZ, size)
		}
	})
}

// hungUp reports whether no process holds the other end of the pipe or
// terminal fd any more (it polls as POLLHUP). Everything written to it is
// then either waiting or on its way to the reader, and a read ends with EOF
// (a pipe) or EIO (a terminal) only once all of it has been read: a
// terminal's driver may still be moving the last bytes into the buffer
// that TIOCINQ counts.
func hungUp(fd uintptr) bool {
	p := []unix.PollFd{{Fd: int32(fd)}}
	n, err := unix.Poll(p, 0)
	return err == nil && n > 0 && p[0].Revents&unix.POLLHUP != 0
}

// readable returns how many bytes the pipe or terminal fd holds for
// reading, -1 if it cannot tell.
func readable(fd uintptr) int {
	n, err := unix.IoctlGetInt(int(fd), unix.TIOCINQ) // FIONREAD
	if err != nil {
		return -1
	}
	return n
}
