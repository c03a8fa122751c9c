package ports

import "syscall"

// openSocket opens a TCP socket that no child inherits.
func openSocket(family int) (int, error) {
	return syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
}
