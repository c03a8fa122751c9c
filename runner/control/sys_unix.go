//go:build linux || darwin

package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// errLocked means another process holds the lock file.
var errLocked = errors.New("lock held by another process")

// ownerOf returns the owner uid of fi (from Lstat or Stat).
func ownerOf(fi fs.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return ^uint32(0)
}

// lockFile opens (creating, never following a symlink) and exclusively
// flocks path without blocking. It returns errLocked if another process
// holds it. The returned file is the one path names after locking, so a
// concurrent unlink by the previous holder cannot leave two holders.
func lockFile(path string, uid int) (*os.File, error) {
	for range 5 {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("refusing control lock file %s: it is a symlink; remove it (rm %s)", path, path)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot open control lock file %s: %w", path, err)
		}
		f := os.NewFile(uintptr(fd), path)
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot check control lock file %s: %w", path, err)
		}
		if !fi.Mode().IsRegular() || ownerOf(fi) != uint32(uid) {
			f.Close()
			return nil, fmt.Errorf("refusing control lock file %s: not a regular file owned by you (uid %d); remove it (rm %s)", path, uid, path)
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, errLocked
			}
			return nil, fmt.Errorf("cannot lock control lock file %s: %w", path, err)
		}
		// The holder before us removes the file while still holding the
		// lock; if path now names another file (or none), retry on that.
		if now, err := os.Lstat(path); err == nil && os.SameFile(fi, now) {
			return f, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("cannot lock control lock file %s: it keeps being replaced; is another ganger starting for the same app?", path)
}

// peerUID returns the uid of the process at the other end of c.
func peerUID(c *net.UnixConn) (uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var uid uint32
	var credErr error
	if err := raw.Control(func(fd uintptr) { uid, credErr = sockPeerUID(int(fd)) }); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, fmt.Errorf("cannot read peer credentials: %w", credErr)
	}
	return uid, nil
}

// isRefused reports whether a dial error means nothing listens on the socket.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
