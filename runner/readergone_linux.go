package runner

import (
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrReaderGone is what WaitReaderGone reports: the pipe has no reader
// left.
var ErrReaderGone = errors.New("the reader of stdout exited")

// WaitReaderGone waits until out, when it is a pipe, has no reader left,
// and returns ErrReaderGone then; it returns nil at once when out is not a
// pipe, and when ctx ends. It lets a supervisor end the run as soon as
// "ganger start | head -1" has read its line, without waiting for a write
// to find out, even when every process has gone quiet. It waits in Go's
// poller on a second, non-blocking opening of the same pipe (out itself
// stays as it is), which polls as an error once no reader is left.
func WaitReaderGone(ctx context.Context, out *os.File) error {
	// The descriptor comes through SyscallConn: Fd would make out
	// blocking if it is not.
	fd := -1
	var st unix.Stat_t
	if rc, err := out.SyscallConn(); err != nil || rc.Control(func(d uintptr) { fd = int(d) }) != nil ||
		unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil
	}
	w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, unix.ENXIO) { // no reader even now
		return ErrReaderGone
	}
	if err != nil {
		return nil
	}
	rc, err := w.SyscallConn()
	if err != nil {
		w.Close()
		return nil
	}
	stop := context.AfterFunc(ctx, func() { w.Close() }) // ends the wait below
	gone := false
	rc.Read(func(fd uintptr) bool {
		// A pipe's write end polls as an error once no reader is left;
		// the poller wakes a reader for that, never for writability.
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		if n, err := unix.Poll(p, 0); err == nil && n > 0 && p[0].Revents&unix.POLLERR != 0 {
			gone = true
		}
		return gone
	})
	if stop() {
		w.Close()
	}
	if gone && ctx.Err() == nil {
		return ErrReaderGone
	}
	return nil
}
