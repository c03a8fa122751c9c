//go:build unix && !linux

package ports

import "syscall"

// openSocket opens a TCP socket that no child inherits: the fork lock keeps a
// child from being started between the two calls, as net does.
func openSocket(family int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	return fd, err
}
