package buildpack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// A slug in use by a running "start --slug" is never pulled from under it:
// the start holds a shared lock on the slug's directory (Slug.Hold), and a
// build that replaces the slug keeps the previous one, renamed to
// SLUG.old.N, while it is held. The next build removes the old ones no
// start holds any more. A renamed directory is the same directory to the
// processes running in it, so they go on as if nothing happened.

// retire removes old, the previous slug, or keeps it as dst.old.N when a
// start still holds it; kept is then its path.
func retire(old, dst string) (kept string, err error) {
	held, err := isHeld(old)
	if err != nil {
		return "", err
	}
	if !held {
		return "", os.RemoveAll(old)
	}
	for n := 1; ; n++ {
		kept = dst + ".old." + strconv.Itoa(n)
		if _, err := os.Lstat(kept); errors.Is(err, fs.ErrNotExist) {
			return kept, os.Rename(old, kept)
		}
	}
}

// sweepOld removes dst.old.N directories no start holds any more.
func sweepOld(dst string) {
	olds, _ := filepath.Glob(dst + ".old.*")
	for _, o := range olds {
		if held, err := isHeld(o); err == nil && !held {
			os.RemoveAll(o)
		}
	}
}

// swapDirRename replaces dst by newDir with two renames: dst is missing
// for an instant, but is restored if the second rename fails.
func swapDirRename(newDir, dst string) (kept string, err error) {
	old := newDir + ".old"
	if err := os.Rename(dst, old); err != nil {
		return "", err
	}
	if err := os.Rename(newDir, dst); err != nil {
		if rerr := os.Rename(old, dst); rerr != nil {
			return "", rerr
		}
		return "", err
	}
	return retire(old, dst)
}

// keptNote says where the previous slug stayed.
func keptNote(kept string) string {
	return fmt.Sprintf("-----> A running start --slug uses the previous slug: it stays in %s until that start ends\n", kept)
}
