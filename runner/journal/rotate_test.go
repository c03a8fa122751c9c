package journal_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/runner/journal"
)

// files reads path and its rotated copies: "" for a missing one.
func files(t *testing.T, path string, keep int) []string {
	t.Helper()
	var out []string
	for i := 0; i <= keep+1; i++ {
		p := path
		if i > 0 {
			p += "." + string(rune('0'+i))
		}
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func mustWrite(t *testing.T, rf *journal.RotatingFile, s string) {
	t.Helper()
	if n, err := rf.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ganger.log")
	rf, err := journal.OpenRotating(path, 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := func(c string) string { return strings.Repeat(c, 5) + "\n" } // 6 bytes
	mustWrite(t, rf, line("a"))
	equal(t, "after a", files(t, path, 2), []string{line("a"), "", "", ""})
	mustWrite(t, rf, line("b")) // 12 > 10: rotates first
	equal(t, "after b", files(t, path, 2), []string{line("b"), line("a"), "", ""})
	mustWrite(t, rf, "c\n") // 8: fits
	equal(t, "after c", files(t, path, 2), []string{line("b") + "c\n", line("a"), "", ""})
	mustWrite(t, rf, line("d"))
	equal(t, "after d", files(t, path, 2), []string{line("d"), line("b") + "c\n", line("a"), ""})
	mustWrite(t, rf, line("e")) // a is dropped: two old files are kept
	equal(t, "after e", files(t, path, 2), []string{line("e"), line("d"), line("b") + "c\n", ""})
	big := strings.Repeat("x", 25) + "\n" // never split, even past the cap
	mustWrite(t, rf, big)
	equal(t, "after a big write", files(t, path, 2), []string{big, line("e"), line("d"), ""})
	mustWrite(t, rf, "f\n")
	equal(t, "after f", files(t, path, 2), []string{"f\n", big, line("e"), ""})
	if err := rf.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rf.Write([]byte("late\n")); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Write after Close = %v, want fs.ErrClosed", err)
	}
	for _, p := range []string{path, path + ".1", path + ".2"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", p, err, fi.Mode())
		}
	}

	// Opening again appends, and counts what is there.
	rf, err = journal.OpenRotating(path, 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	mustWrite(t, rf, "g\n")
	mustWrite(t, rf, "hhhhhhh\n") // 4+8 > 10
	equal(t, "after reopening", files(t, path, 2), []string{"hhhhhhh\n", "f\ng\n", big, ""})
	if rf.Err() != nil {
		t.Errorf("Err() = %v", rf.Err())
	}
}

func TestRotationKeepNone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ganger.log")
	rf, err := journal.OpenRotating(path, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	mustWrite(t, rf, "aaaaaa\n")
	mustWrite(t, rf, "bbbbbb\n")
	equal(t, "keep 0", files(t, path, 0), []string{"bbbbbb\n", ""})
}

func TestRotationFailureKeepsWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ganger.log")
	rf, err := journal.OpenRotating(path, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	mustWrite(t, rf, "aaaaaa\n")
	// A directory where ganger.log.1 goes makes the rename fail, even for
	// root.
	if err := os.MkdirAll(filepath.Join(path+".1", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, rf, "bbbbbb\n")
	if rf.Err() == nil || !strings.Contains(rf.Err().Error(), "rotate log") {
		t.Errorf("Err() = %v, want the failed rotation", rf.Err())
	}
	if err := os.RemoveAll(path + ".1"); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, rf, "cccccc\n")
	equal(t, "after the failure", files(t, path, 1), []string{"cccccc\n", "aaaaaa\nbbbbbb\n", ""})
	if rf.Err() != nil {
		t.Errorf("Err() = %v after a rotation that worked", rf.Err())
	}
}

func TestRotatingRefuses(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "ganger.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := journal.OpenRotating(link, 10, 1); err == nil || !strings.Contains(err.Error(), "is a symlink") {
		t.Errorf("OpenRotating(symlink) = %v, want it refused", err)
	}
	if _, err := journal.OpenRotating(dir, 10, 1); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("OpenRotating(dir) = %v, want it refused", err)
	}
	if _, err := journal.OpenRotating(filepath.Join(dir, "missing", "log"), 10, 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenRotating(in a missing dir) = %v, want fs.ErrNotExist", err)
	}
	if _, err := journal.OpenRotating(filepath.Join(dir, "x.log"), 0, 1); err == nil {
		t.Error("OpenRotating with a zero cap succeeded")
	}
}
