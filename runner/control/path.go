package control

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Options carries the environment the socket location depends on. Build it
// with DefaultOptions in main; tests fill it in directly.
type Options struct {
	// RuntimeDir is $XDG_RUNTIME_DIR ("" when unset). It is used when it is
	// an absolute path to a directory owned by us with no group or other
	// access; otherwise TempDir is.
	RuntimeDir string
	// TempDir is the system temp dir ($TMPDIR or /tmp); "" means /tmp.
	TempDir string
	// HomeDir is $HOME ("" when unset). When something of another user
	// stands where the socket directory would be (TMPDIR/ganger-UID is a
	// name anyone can take first), the socket goes to
	// HomeDir/.cache/ganger/sock instead. Server and clients choose alike.
	HomeDir string
}

// DefaultOptions reads XDG_RUNTIME_DIR, TMPDIR and HOME through getenv
// (os.Getenv in main).
func DefaultOptions(getenv func(string) string) Options {
	return Options{RuntimeDir: getenv("XDG_RUNTIME_DIR"), TempDir: getenv("TMPDIR"), HomeDir: getenv("HOME")}
}

// The app's own directory of ganger state, and the lock a server holds in
// it. The lock lives with the app, not with the socket, so that two starts
// of one app that would put their sockets in different places (another
// TMPDIR) still see each other.
const (
	appDirName = ".ganger"
	lockName   = "start.lock"
	// appDirIgnore is .ganger/.gitignore, written when ganger creates
	// .ganger, as ganger build does.
	appDirIgnore = "# Written by ganger: builds, logs and caches are not part of the app.\n*\n"
)

// location is where one root's socket and lock live.
type location struct {
	root   string // canonical root
	dir    string // the 0700 socket directory
	socket string // dir/HASH.sock
	appDir string // root/.ganger
	lock   string // root/.ganger/start.lock
	// displaced is the directory that another user's file or directory
	// keeps us from, when dir is the fallback.
	displaced string
}

// SocketPath returns the control socket path for the app root, without
// creating anything.
func SocketPath(root string, opt Options) (string, error) {
	loc, err := locate(root, opt, os.Getuid())
	if err != nil {
		return "", err
	}
	return loc.socket, nil
}

// canonicalRoot makes root absolute, clean and, when it exists, free of
// symlinks, so every spelling of one directory maps to one socket.
func canonicalRoot(root string) (string, error) {
	if root == "" {
		return "", errors.New("empty app root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("cannot make app root %s absolute: %w", root, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	return abs, nil
}

func locate(root string, opt Options, uid int) (location, error) {
	root, err := canonicalRoot(root)
	if err != nil {
		return location{}, err
	}
	dir, displaced := chooseDir(opt, uid)
	loc := location{
		root:      root,
		appDir:    filepath.Join(root, appDirName),
		lock:      filepath.Join(root, appDirName, lockName),
		displaced: displaced,
	}.in(dir)
	if n := len(loc.socket); n >= maxSocketPath {
		set := "TMPDIR"
		if displaced != "" {
			set = "HOME" // TMPDIR's is another user's
		}
		return loc, fmt.Errorf("control socket path %s is %d bytes, over the %d-byte limit of Unix sockets; set XDG_RUNTIME_DIR or %s to a shorter directory",
			loc.socket, n, maxSocketPath-1, set)
	}
	return loc, nil
}

// in returns l with its socket in dir.
func (l location) in(dir string) location {
	sum := sha256.Sum256([]byte(l.root))
	l.dir = dir
	l.socket = filepath.Join(dir, hex.EncodeToString(sum[:8])+".sock")
	return l
}

// chooseDir returns the socket directory: socketDir's, unless something
// of another user stands there (a directory, a symlink, a file: it got
// there first), when it is the fallback under HomeDir, with the displaced
// path. Without a HomeDir the first is returned, for the checks to refuse.
func chooseDir(opt Options, uid int) (dir, displaced string) {
	dir = socketDir(opt, uid)
	fi, err := os.Lstat(dir)
	if err != nil || ownerOf(fi) == uint32(uid) {
		return dir, ""
	}
	if fb := fallbackDir(opt); fb != "" {
		return fb, dir
	}
	return dir, ""
}

// fallbackDir is the socket directory to use when the usual one is taken by
// another user: HomeDir/.cache/ganger/sock, or "" without a HomeDir.
func fallbackDir(opt Options) string {
	if h := opt.HomeDir; h != "" && filepath.IsAbs(h) {
		return filepath.Join(filepath.Clean(h), ".cache", "ganger", "sock")
	}
	return ""
}

// socketDir picks the usual directory (see Options) without touching it
// beyond a Lstat of the runtime dir.
func socketDir(opt Options, uid int) string {
	if rd := opt.RuntimeDir; rd != "" && filepath.IsAbs(rd) {
		if fi, err := os.Lstat(rd); err == nil && fi.IsDir() &&
			ownerOf(fi) == uint32(uid) && fi.Mode().Perm()&0o077 == 0 {
			return filepath.Join(filepath.Clean(rd), "ganger")
		}
	}
	tmp := opt.TempDir
	if tmp == "" || !filepath.IsAbs(tmp) {
		tmp = "/tmp"
	}
	return filepath.Join(filepath.Clean(tmp), fmt.Sprintf("ganger-%d", uid))
}

// prepareDir creates dir with mode 0700 if it is missing and checks it.
func prepareDir(dir string, uid int) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cannot create control socket dir: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("cannot check control socket dir: %w", err)
	}
	return checkDir(dir, fi.Mode(), ownerOf(fi), uid)
}

// checkDir says whether a directory with this mode and owner may hold our
// socket: a real directory, owned by uid, mode 0700.
func checkDir(path string, mode fs.FileMode, owner uint32, uid int) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("refusing control socket dir %s: it is a symlink; remove it (rm %s) and start again", path, path)
	case !mode.IsDir():
		return fmt.Errorf("refusing control socket dir %s: it is not a directory; remove it and start again", path)
	case owner != uint32(uid):
		return fmt.Errorf("refusing control socket dir %s: it is owned by uid %d, not by you (uid %d), so another user could intercept ganger's control socket; remove it, or set HOME (ganger then uses ~/.cache/ganger/sock) or TMPDIR to a directory of your own", path, owner, uid)
	case mode.Perm() != 0o700:
		return fmt.Errorf("refusing control socket dir %s: its mode is %#o, want 0700; run chmod 700 %s", path, mode.Perm(), path)
	}
	return nil
}

// checkAppDir says whether the app's .ganger, with this mode and owner, may
// hold ganger's lock: a real directory owned by uid (any mode: ganger build
// may have made it).
func checkAppDir(path string, mode fs.FileMode, owner uint32, uid int) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("refusing %s: it is a symlink, and ganger would take its lock through it; remove it (it may come from the repository: ganger creates .ganger itself)", path)
	case !mode.IsDir():
		return fmt.Errorf("refusing %s: it is not a directory; remove it, ganger creates it", path)
	case owner != uint32(uid):
		return fmt.Errorf("refusing %s: it is owned by uid %d, not by you (uid %d); remove it, or run ganger as its owner", path, owner, uid)
	}
	return nil
}

// checkSocket says whether an existing file at path may be treated as our
// (possibly stale) socket: a socket, not a symlink, owned by uid.
func checkSocket(path string, mode fs.FileMode, owner uint32, uid int) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("refusing control socket %s: it is a symlink; remove it (rm %s)", path, path)
	case mode.Type() != fs.ModeSocket:
		return fmt.Errorf("refusing control socket %s: it is not a socket; remove it (rm %s)", path, path)
	case owner != uint32(uid):
		return fmt.Errorf("refusing control socket %s: it is owned by uid %d, not by you (uid %d); remove it", path, owner, uid)
	}
	return nil
}

// checkPeer says whether a peer of peerUID may talk to us (uid).
func checkPeer(peerUID uint32, uid int) error {
	if peerUID != uint32(uid) {
		return fmt.Errorf("control connection refused: peer uid %d is not ganger's uid %d", peerUID, uid)
	}
	return nil
}
