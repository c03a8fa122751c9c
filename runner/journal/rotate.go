package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// Defaults for a formation's log file.
const (
	DefaultMaxLog  = 10 << 20 // bytes before the log rotates
	DefaultKeepLog = 3        // old logs kept: PATH.1 to PATH.3
)

// RotatingFile appends to a file and rotates it by size. It is safe for
// concurrent use.
type RotatingFile struct {
	path string
	max  int64
	keep int

	mu        sync.Mutex // guards the fields below
	f         *os.File
	size      int64
	rotateErr error // of the last rotation
}

// OpenRotating opens path for appending (creating it with mode 0600; its
// directory must exist). When a write would take the file past max bytes,
// it is first renamed to path.1 (path.1 to path.2, and so on up to path.KEEP,
// the oldest dropped) and a new path is started; with keep 0 the old content
// is dropped. A write is never split: a write longer than max goes whole
// into a fresh file. A symlink at path is refused. See Err for a rotation
// that fails.
func OpenRotating(path string, max int64, keep int) (*RotatingFile, error) {
	if max <= 0 {
		return nil, fmt.Errorf("open log %s: size cap %d: want a positive number of bytes", path, max)
	}
	rf := &RotatingFile{path: path, max: max, keep: max0(keep)}
	if err := rf.open(); err != nil {
		return nil, err
	}
	return rf, nil
}

func max0(n int) int { return max(n, 0) }

// Path is the file's path, as given.
func (rf *RotatingFile) Path() string { return rf.path }

// open opens rf.path, refusing anything but a regular file.
func (rf *RotatingFile) open() error {
	if fi, err := os.Lstat(rf.path); err == nil && !fi.Mode().IsRegular() {
		what := "not a regular file"
		if fi.Mode()&fs.ModeSymlink != 0 {
			what = "a symlink"
		}
		return fmt.Errorf("open log %s: it is %s; hint: remove it, ganger creates the log itself", rf.path, what)
	}
	// O_NOFOLLOW closes the window between the Lstat and the open.
	f, err := os.OpenFile(rf.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log: %w", err)
	}
	rf.f, rf.size = f, fi.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its cap.
func (rf *RotatingFile) Write(p []byte) (int, error) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.f == nil {
		return 0, fmt.Errorf("write log %s: %w", rf.path, fs.ErrClosed)
	}
	if rf.size > 0 && rf.size+int64(len(p)) > rf.max {
		rf.rotateErr = rf.rotate()
		if rf.f == nil {
			return 0, rf.rotateErr
		}
	}
	n, err := rf.f.Write(p)
	rf.size += int64(n)
	return n, err
}

// rotate shifts the old files up by one and starts a new one.
func (rf *RotatingFile) rotate() error {
	if err := rf.f.Close(); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	rf.f = nil
	name := func(i int) string { return rf.path + "." + strconv.Itoa(i) }
	var err error
	if rf.keep == 0 {
		err = os.Remove(rf.path)
	} else {
		for i := rf.keep - 1; i >= 1; i-- {
			if e := os.Rename(name(i), name(i+1)); e != nil && !errors.Is(e, fs.ErrNotExist) {
				err = e
				break
			}
		}
		if err == nil {
			err = os.Rename(rf.path, name(1))
		}
	}
	if err != nil {
		// Go on appending to the same file rather than lose output or stop
		// the formation; the next write past the cap tries again.
		if oerr := rf.open(); oerr != nil {
			return fmt.Errorf("rotate log: %w (and reopening it: %v)", err, oerr)
		}
		return fmt.Errorf("rotate log: %w", err)
	}
	return rf.open()
}

// Err is why the last rotation failed, or nil when it succeeded. A failed
// rotation does not fail the write: it goes to the same file, past its cap,
// and the next write past the cap tries again. Only when the file cannot be
// opened again does Write fail.
func (rf *RotatingFile) Err() error {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.rotateErr
}

// Close closes the file.
func (rf *RotatingFile) Close() error {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.f == nil {
		return nil
	}
	err := rf.f.Close()
	rf.f = nil
	return err
}
