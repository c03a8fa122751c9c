package buildpack

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// gangerIgnore is .ganger/.gitignore, written when ganger creates .ganger:
// nothing in it shows in git status or reaches a commit by "git add -A".
const gangerIgnore = "# Written by ganger: builds, logs and caches are not part of the app.\n*\n"

// gangerPath is something ganger writes under the app's .ganger.
type gangerPath struct {
	rel string // relative to the app
	dir bool
}

// gangerPaths are what ganger writes under the app's .ganger: each must be
// ganger's own directory or file, never a symlink (a repository may commit
// one, pointing anywhere) nor another user's.
func gangerPaths() []gangerPath {
	return []gangerPath{
		{SlugDir, true}, {filepath.Dir(CheckSlugDir), true}, {CheckSlugDir, true}, {CacheDirName, true}, {TestCacheDir, true}, {ArtifactsDir, true},
		{BuildpackCacheDir, true}, {BuildLogFile, false}, {TestLogFile, false},
		{BuildLockFile, false}, {TestLockFile, false},
	}
}

// prepareGangerDir makes sure appDir/.ganger is a directory of this user,
// creating it (0700, with a .gitignore of "*") when missing, and that
// nothing ganger writes under it is a symlink or another user's. It
// returns the directory.
func prepareGangerDir(appDir string) (string, error) {
	gdir := filepath.Join(appDir, GangerDir)
	if err := os.Mkdir(gdir, 0o700); err == nil {
		if err := writeGangerIgnore(gdir); err != nil {
			return "", err
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("creating %s: %w", gdir, err)
	}
	if err := checkOwn(gdir, true); err != nil {
		return "", err
	}
	for _, p := range gangerPaths() {
		if err := checkOwn(filepath.Join(appDir, p.rel), p.dir); err != nil {
			return "", err
		}
	}
	return gdir, nil
}

func writeGangerIgnore(gdir string) error {
	p := filepath.Join(gdir, ".gitignore")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	_, err = f.WriteString(gangerIgnore)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// checkOwn returns an error when something stands at p that ganger must
// not write into: a symlink, another user's file or directory, or a file
// where a directory belongs (and the reverse). A missing p is fine.
func checkOwn(p string, wantDir bool) error {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", p, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(p)
		return fmt.Errorf("refusing to use %s: it is a symlink (to %s), and ganger would write its builds, logs and caches through it; hint: remove it (it may come from the repository: ganger creates .ganger itself)", p, target)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("refusing to use %s: it belongs to uid %d, not to you (uid %d); hint: remove it, or run ganger as its owner", p, st.Uid, os.Geteuid())
	}
	if wantDir && !fi.IsDir() {
		return fmt.Errorf("refusing to use %s: it is not a directory; hint: remove it, ganger creates it", p)
	}
	if !wantDir && !fi.Mode().IsRegular() {
		return fmt.Errorf("refusing to use %s: it is not a regular file; hint: remove it, ganger creates it", p)
	}
	return nil
}

// seedTestCache starts the test runs' CACHE_DIR, .ganger/test-cache, as a
// copy of the build cache, .ganger/cache, when test-cache does not exist
// yet and the build cache does: a cache the user seeded, or a build filled, serves the
// tests too, without a test run ever writing the build cache (builds and
// test runs may run at once, and test-compile installs what a build does
// not). A failed copy only costs a cold cache: it is said and the run
// goes on.
func (s *session) seedTestCache(ctx context.Context) {
	from := filepath.Join(s.appDir, CacheDirName)
	if _, err := os.Lstat(s.cacheDir); !errors.Is(err, fs.ErrNotExist) {
		return
	}
	if fi, err := os.Lstat(from); err != nil || !fi.IsDir() {
		return
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.appDir, GangerDir), "tmp-test-seed-")
	if err == nil {
		defer os.RemoveAll(tmp)
		var st copyStats
		if st, err = copyTree(ctx, from, filepath.Join(tmp, "cache"), nil); err == nil {
			if err = os.Rename(filepath.Join(tmp, "cache"), s.cacheDir); err == nil {
				fmt.Fprintf(s.out, "-----> Seeded %s from %s (%d files, %s)\n", TestCacheDir, CacheDirName, st.Files, humanBytes(st.Bytes))
				return
			}
		}
	}
	fmt.Fprintf(s.out, " !     could not seed %s from %s: %v; the tests start with an empty cache\n", TestCacheDir, CacheDirName, err)
}
