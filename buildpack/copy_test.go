package buildpack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCopyTree(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	writeFiles(t, src, map[string]string{
		"a.txt":          "a",
		"empty":          "",
		"bin/run":        "#!/bin/sh\n",
		"sub/deep/x.txt": strings.Repeat("x", 100_000),
		"skipme/y":       "y",
		"sub/skip.log":   "l",
		"link":           "->a.txt",
		"dangling":       "->nowhere",
		"emptydir/":      "",
		"ro/f":           "f",
	})
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 6000, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(filepath.Join(src, "bin/run"), 0o750))
	must(os.Chtimes(filepath.Join(src, "a.txt"), mtime, mtime))
	must(syscall.Mkfifo(filepath.Join(src, "fifo"), 0o600))
	must(os.Chmod(filepath.Join(src, "ro"), 0o555))
	must(os.Chtimes(filepath.Join(src, "sub"), mtime, mtime))
	t.Cleanup(func() { os.Chmod(filepath.Join(src, "ro"), 0o755) })

	dst := filepath.Join(t.TempDir(), "dst")
	var seen []string
	st, err := copyTree(context.Background(), src, dst, func(rel string, isDir bool) bool {
		seen = append(seen, rel)
		return rel == "skipme" || strings.HasSuffix(rel, ".log")
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dst, "ro"), 0o755) })
	if st.Files != 5 || st.Links != 2 || st.Skipped != 1 || st.Bytes != 100_000+1+10+1 {
		t.Errorf("stats = %+v", st)
	}
	for _, p := range seen {
		if strings.HasPrefix(p, "skipme/") {
			t.Errorf("entered skipped dir: %s", p)
		}
	}
	for _, p := range []string{"skipme", "sub/skip.log", "fifo"} {
		if _, err := os.Lstat(filepath.Join(dst, p)); err == nil {
			t.Errorf("%s copied", p)
		}
	}
	checks := []struct {
		p    string
		mode os.FileMode
	}{
		{"a.txt", 0o644}, {"bin/run", 0o750}, {"ro", os.ModeDir | 0o555}, {"emptydir", os.ModeDir | 0o755},
		{"link", os.ModeSymlink}, {"dangling", os.ModeSymlink},
	}
	for _, c := range checks {
		fi, err := os.Lstat(filepath.Join(dst, c.p))
		if err != nil {
			t.Errorf("%s: %v", c.p, err)
			continue
		}
		got := fi.Mode()
		if c.mode == os.ModeSymlink {
			got &= os.ModeType
		}
		if got != c.mode {
			t.Errorf("%s: mode %v, want %v", c.p, got, c.mode)
		}
	}
	for _, p := range []string{"a.txt", "sub"} {
		fi, err := os.Stat(filepath.Join(dst, p))
		if err != nil || !fi.ModTime().Equal(mtime) {
			t.Errorf("%s mtime not kept: %v %v", p, fi.ModTime(), err)
		}
	}
	if readFile(t, filepath.Join(dst, "sub/deep/x.txt")) != strings.Repeat("x", 100_000) {
		t.Error("content differs")
	}
	if l, _ := os.Readlink(filepath.Join(dst, "link")); l != "a.txt" {
		t.Errorf("link -> %q", l)
	}

	// dst must not exist; a cancelled context stops the copy.
	if _, err := copyTree(context.Background(), src, dst, nil); err == nil {
		t.Error("copy onto an existing dir succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := copyTree(ctx, src, filepath.Join(t.TempDir(), "c"), nil); err == nil {
		t.Error("cancelled copy succeeded")
	}
}
