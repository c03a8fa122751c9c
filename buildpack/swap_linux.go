//go:build linux

package buildpack

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// swapDir makes newDir the directory at dst, atomically when dst exists
// (renameat2 RENAME_EXCHANGE), then retires the previous one: removed, or
// kept as dst.old.N (kept) while a start still runs from it. On failure dst
// is left as it was.
func swapDir(newDir, dst string) (kept string, err error) {
	sweepOld(dst)
	if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
		return "", os.Rename(newDir, dst)
	}
	err = unix.Renameat2(unix.AT_FDCWD, newDir, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		return swapDirRename(newDir, dst)
	}
	if err != nil {
		return "", &os.LinkError{Op: "renameat2", Old: newDir, New: dst, Err: err}
	}
	// newDir now holds the previous slug.
	return retire(newDir, dst)
}
