package main

import (
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gangerdev/ganger/runner"
)

// errReaderGone is what watchReader reports: the pipe on stdout has no
// reader left.
var errReaderGone = errors.New("the reader of stdout exited")

// watchReader ends the run when out is a pipe whose reader exits, without
// waiting for a write to find out: "ganger start | head -1" must end even
// when every process has gone quiet. It waits in Go's poller on a second,
// non-blocking opening of the same pipe (out itself stays as it is), which
// reports an error once no reader is left.
func watchReader(out any) func(context.Context, *runner.Supervisor) {
	return func(ctx context.Context, sup *runner.Supervisor) {
		f, ok := out.(*os.File)
		if !ok {
			return
		}
		// The descriptor comes through SyscallConn: Fd would make out
		// blocking if it is not.
		fd := -1
		var st unix.Stat_t
		if rc, err := f.SyscallConn(); err != nil || rc.Control(func(d uintptr) { fd = int(d) }) != nil ||
			unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return
		}
		w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fd), os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if errors.Is(err, unix.ENXIO) { // no reader even now
			sup.OutputClosed(ctx, errReaderGone)
			return
		}
		if err != nil {
			return
		}
		rc, err := w.SyscallConn()
		if err != nil {
			w.Close()
			return
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
			sup.OutputClosed(ctx, errReaderGone)
		}
	}
}
