//go:build !linux

package buildpack

import (
	"errors"
	"os"
)

// swapDir makes newDir the directory at dst, retiring the previous one.
func swapDir(newDir, dst string) (kept string, err error) {
	sweepOld(dst)
	if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
		return "", os.Rename(newDir, dst)
	}
	return swapDirRename(newDir, dst)
}
