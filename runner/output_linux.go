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
