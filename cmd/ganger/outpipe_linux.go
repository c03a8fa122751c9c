package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// outputPipeSize is the capacity asked for ganger's stdout when it is a pipe
// (Linux's default is 64 KiB, and 1 MiB the most an unprivileged process may
// ask for by default). One write of ganger's then carries a whole read of a
// busy child without waiting for the reader to make room four times over:
// the log goes through in fewer, larger steps.
const outputPipeSize = 1 << 20

// growOutputPipe asks for out's pipe to hold outputPipeSize bytes when out is
// a pipe and holds less. It is a request: a system that refuses it keeps the
// pipe as it was, and nothing else changes. Terminals and files are left
// alone.
func growOutputPipe(out io.Writer) {
	f, ok := out.(*os.File)
	if !ok {
		return
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < outputPipeSize {
			unix.FcntlInt(fd, unix.F_SETPIPE_SZ, outputPipeSize)
		}
	})
}
