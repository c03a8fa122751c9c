//go:build linux || darwin

package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
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

// openAppDir opens the app's .ganger directory (gdir), creating it with
// mode 0700 and a .gitignore of "*" when missing. It refuses a symlink,
// something other than a directory, and a directory of another uid: ganger
// would take its lock through it.
func openAppDir(gdir string, uid int) (*os.File, error) {
	created := false
	if err := os.Mkdir(gdir, 0o700); err == nil {
		created = true
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("cannot create %s for ganger's lock: %w; hint: ganger start needs to write in the app root", gdir, err)
	}
	fd, err := unix.Open(gdir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if fi, lerr := os.Lstat(gdir); lerr == nil {
			if err := checkAppDir(gdir, fi.Mode(), ownerOf(fi), uid); err != nil {
				return nil, err
			}
		}
		return nil, fmt.Errorf("cannot open %s for ganger's lock: %w", gdir, err)
	}
	d := os.NewFile(uintptr(fd), gdir)
	fi, err := d.Stat()
	if err == nil {
		err = checkAppDir(gdir, fi.Mode(), ownerOf(fi), uid)
	}
	if err == nil && created {
		err = writeAt(d, ".gitignore", appDirIgnore)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// writeAt creates the file name in dir (never through a symlink, never
// over an existing file) holding text.
func writeAt(dir *os.File, name, text string) error {
	path := filepath.Join(dir.Name(), name)
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// lockFile opens (creating, never following a symlink) the file name in
// dir and exclusively flocks it without blocking. It returns errLocked if
// another process holds it. The returned file is the one the name points
// to after locking, so a concurrent unlink by the previous holder cannot
// leave two holders.
func lockFile(dir *os.File, name string, uid int) (*os.File, error) {
	path := filepath.Join(dir.Name(), name)
	dfd := int(dir.Fd())
	for range 5 {
		fd, err := unix.Openat(dfd, name, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("refusing lock file %s: it is a symlink; remove it (rm %s)", path, path)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot open lock file %s: %w", path, err)
		}
		f := os.NewFile(uintptr(fd), path)
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot check lock file %s: %w", path, err)
		}
		if !fi.Mode().IsRegular() || ownerOf(fi) != uint32(uid) {
			f.Close()
			return nil, fmt.Errorf("refusing lock file %s: not a regular file owned by you (uid %d); remove it (rm %s)", path, uid, path)
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, errLocked
			}
			return nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		// The holder before us removes the file while still holding the
		// lock; if the name now points to another file (or none), retry
		// on that.
		var now unix.Stat_t
		if unix.Fstatat(dfd, name, &now, unix.AT_SYMLINK_NOFOLLOW) == nil && sameStat(fi, &now) {
			return f, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("cannot lock %s: it keeps being replaced; is another ganger starting for the same app?", path)
}

// sameStat reports whether fi and st describe the same file.
func sameStat(fi fs.FileInfo, st *unix.Stat_t) bool {
	s, ok := fi.Sys().(*syscall.Stat_t)
	return ok && uint64(s.Dev) == uint64(st.Dev) && uint64(s.Ino) == uint64(st.Ino)
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
