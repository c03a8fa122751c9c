//go:build !linux

package buildpack

import (
	"errors"
	"os"
)

// swapDir makes newDir the directory at dst, replacing the previous one.
func swapDir(newDir, dst string) error {
	if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
		return os.Rename(newDir, dst)
	}
	return swapDirRename(newDir, dst)
}
