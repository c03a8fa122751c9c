//go:build unix

package buildpack

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Hold takes a shared lock on the slug's directory for as long as a start
// runs from it: a build then keeps the directory instead of removing it.
// release drops the lock.
func (s *Slug) Hold() (release func(), err error) {
	f, err := os.Open(s.Dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: s.Dir, Err: err}
	}
	return func() { f.Close() }, nil
}

// isHeld reports whether a start holds dir (see Hold).
func isHeld(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}
