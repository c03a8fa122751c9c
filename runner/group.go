package runner

import (
	"errors"
	"syscall"
)

// signalGroup sends sig to the process group pgid. It refuses pgid <= 1, which
// would reach every process of the user (-1) or ganger's own group (0).
func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return errors.New("refusing to signal process group <= 1")
	}
	return syscall.Kill(-pgid, sig)
}

// groupAlive reports whether any process is left in group pgid. Zombies count
// until reaped.
func groupAlive(pgid int) bool {
	if pgid <= 1 {
		return false
	}
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
