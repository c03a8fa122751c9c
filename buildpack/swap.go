package buildpack

import "os"

// swapDirRename replaces dst by newDir with two renames: dst is missing
// for an instant, but is restored if the second rename fails.
func swapDirRename(newDir, dst string) error {
	old := newDir + ".old"
	if err := os.Rename(dst, old); err != nil {
		return err
	}
	if err := os.Rename(newDir, dst); err != nil {
		if rerr := os.Rename(old, dst); rerr != nil {
			return rerr
		}
		return err
	}
	return os.RemoveAll(old)
}
