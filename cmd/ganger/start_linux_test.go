package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// ganger's stdout, when a pipe, is grown to outputPipeSize where the system
// allows it; a file is left as it is.
func TestGrowOutputPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	before, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Skipf("F_GETPIPE_SZ: %v", err)
	}
	growOutputPipe(w)
	after, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := outputPipeSize
	if b, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err == nil {
		if limit, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && limit < want && os.Geteuid() != 0 {
			want = before // an unprivileged request above the limit is refused
		}
	}
	if after < want {
		t.Errorf("pipe holds %d bytes after growOutputPipe (%d before), want at least %d", after, before, want)
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	growOutputPipe(f) // must not fail or change anything
	if _, err := f.WriteString("still writable\n"); err != nil {
		t.Fatal(err)
	}
}
