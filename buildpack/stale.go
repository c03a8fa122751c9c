package buildpack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// A build or test run works in a workspace under .ganger, tmp-build-* or
// tmp-test-*, whose ENV_DIR holds the app's config vars, secrets
// included. The run removes it at its end, but a run killed with SIGKILL
// runs no code: its workspace stays. RemoveStale, called whenever ganger
// loads an app, removes such leftovers, so that they outlive at most the
// next ganger command.
//
// A workspace is a leftover when no run holds the lock of its kind: a run
// takes the lock (build.lock, test.lock) before it creates its workspace
// and removes the workspace before it lets the lock go, and the kernel
// lets the lock go when its holder dies.

// goneDirPrefix names leftovers moved aside, to be removed without a lock.
const goneDirPrefix = "tmp-gone-"

// RemoveStale removes the workspaces of killed builds and test runs from
// appDir's .ganger. It holds a run's lock only for the time of renaming its
// leftovers to tmp-gone-* (a run starting in that instant is refused as
// if another were running), then removes them, and any tmp-gone-* an
// earlier removal left unfinished. With no leftover it only lists .ganger.
// It never follows a symlink, and leaves alone what is not this user's
// (see checkOwn).
func RemoveStale(appDir string) error {
	gdir := filepath.Join(appDir, GangerDir)
	tmps, err := filepath.Glob(filepath.Join(gdir, "tmp-*"))
	if err != nil || len(tmps) == 0 {
		return err
	}
	if err := checkOwn(gdir, true); err != nil {
		return err
	}
	var errs []error
	for _, k := range []struct{ prefix, lock string }{
		{"tmp-build-", BuildLockFile},
		{"tmp-test-", TestLockFile}, // tmp-test-seed-* too
	} {
		if !hasPrefix(tmps, k.prefix) {
			continue
		}
		if err := moveAside(appDir, gdir, k.prefix, k.lock); err != nil {
			errs = append(errs, err)
		}
	}
	gone, _ := filepath.Glob(filepath.Join(gdir, goneDirPrefix+"*"))
	for _, g := range gone {
		if err := checkOwn(g, true); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.RemoveAll(g); err != nil {
			errs = append(errs, fmt.Errorf("removing the leftover %s: %w", g, err))
		}
	}
	return errors.Join(errs...)
}

// hasPrefix reports whether the base name of one of paths starts with
// prefix.
func hasPrefix(paths []string, prefix string) bool {
	for _, p := range paths {
		if strings.HasPrefix(filepath.Base(p), prefix) {
			return true
		}
	}
	return false
}

// moveAside renames gdir's prefix* directories to tmp-gone-* unless a run
// holds lock, the lock of their kind: then they are its own.
func moveAside(appDir, gdir, prefix, lock string) error {
	lockPath := filepath.Join(appDir, lock)
	if err := checkOwn(lockPath, false); err != nil {
		return err
	}
	f, ok, err := lockFile(lockPath)
	if err != nil {
		return fmt.Errorf("locking %s: %w", lockPath, err)
	}
	if !ok {
		return nil // a run holds its workspace
	}
	defer f.Close()
	// Listed again under the lock: what is there now is no run's.
	dirs, _ := filepath.Glob(filepath.Join(gdir, prefix+"*"))
	for _, d := range dirs {
		if err := checkOwn(d, true); err != nil {
			continue // not a workspace ganger made
		}
		to := filepath.Join(gdir, goneDirPrefix+strings.TrimPrefix(filepath.Base(d), "tmp-"))
		if err := os.Rename(d, to); err != nil {
			// A name still taken by an unfinished removal: remove in
			// place, under the lock.
			if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) {
				return fmt.Errorf("moving the leftover %s aside: %w", d, err)
			}
			if err := os.RemoveAll(d); err != nil {
				return fmt.Errorf("removing the leftover %s: %w", d, err)
			}
		}
	}
	return nil
}
