package buildpack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// makeTree writes an app of n files (spread over n/100 directories, sizes
// from 0 to ~8 KiB, a few executables and symlinks) under dir.
func makeTree(tb testing.TB, dir string, n int) {
	tb.Helper()
	buf := make([]byte, 8192)
	for i := range buf {
		buf[i] = byte('a' + i%26)
	}
	perDir := 100
	for i := 0; i < n; i++ {
		d := filepath.Join(dir, fmt.Sprintf("pkg%03d", i/perDir/10), fmt.Sprintf("mod%03d", i/perDir))
		if i%perDir == 0 {
			if err := os.MkdirAll(d, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		mode := os.FileMode(0o644)
		if i%50 == 0 {
			mode = 0o755
		}
		size := (i * 37) % len(buf)
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%05d.txt", i)), buf[:size], mode); err != nil {
			tb.Fatal(err)
		}
		if i%1000 == 0 {
			if err := os.Symlink(fmt.Sprintf("f%05d.txt", i), filepath.Join(d, fmt.Sprintf("l%05d", i))); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkCopyApp times copying a 20,000-file app into a fresh build dir
// ("ganger", the code Build uses) against "cp -a" of the same tree in the
// same run ("cp-a"); the ratio of the two ns/op is the performance goal
// (<= 1.2). Run: go test -run '^$' -bench CopyApp -benchtime 5x ./buildpack/
func BenchmarkCopyApp(b *testing.B) {
	src := filepath.Join(b.TempDir(), "app")
	makeTree(b, src, 20_000)
	work := b.TempDir()
	run := func(b *testing.B, copyOnce func(dst string) error) {
		for i := 0; b.Loop(); i++ {
			dst := filepath.Join(work, fmt.Sprintf("%s-%d", filepath.Base(b.Name()), i))
			if err := copyOnce(dst); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := os.RemoveAll(dst); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.Run("ganger", func(b *testing.B) {
		run(b, func(dst string) error {
			st, err := copyTree(context.Background(), src, dst, nil)
			if err == nil && st.Files != 20_000 {
				err = fmt.Errorf("copied %d files", st.Files)
			}
			return err
		})
	})
	b.Run("cp-a", func(b *testing.B) {
		if _, err := exec.LookPath("cp"); err != nil {
			b.Skip("no cp")
		}
		run(b, func(dst string) error { return exec.Command("cp", "-a", src, dst).Run() })
	})
}

// TestCopyAppRatio prints the copy time against "cp -a" on a 20,000-file
// tree. It is skipped unless GANGER_BENCH=1 (it takes a few seconds).
func TestCopyAppRatio(t *testing.T) {
	if os.Getenv("GANGER_BENCH") != "1" {
		t.Skip("set GANGER_BENCH=1 to time the app copy against cp -a")
	}
	src := filepath.Join(t.TempDir(), "app")
	makeTree(t, src, 20_000)
	work := t.TempDir()
	best := func(name string, f func(dst string) error) time.Duration {
		var min time.Duration
		for i := range 5 {
			dst := filepath.Join(work, fmt.Sprintf("%s-%d", name, i))
			start := time.Now()
			if err := f(dst); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); min == 0 || d < min {
				min = d
			}
			if err := os.RemoveAll(dst); err != nil {
				t.Fatal(err)
			}
		}
		return min
	}
	g := best("ganger", func(dst string) error {
		_, err := copyTree(context.Background(), src, dst, nil)
		return err
	})
	c := best("cp", func(dst string) error { return exec.Command("cp", "-a", src, dst).Run() })
	t.Logf("copy of 20,000 files: ganger %v, cp -a %v, ratio %.2f (best of 5)", g, c, float64(g)/float64(c))
}

// BenchmarkWarmRebuild times a rebuild of a 2,000-file app with two
// buildpacks whose cache dir and fetched buildpacks are warm: the cost
// ganger adds around the buildpacks (copy, env dir, detect, compile of
// shell scripts, export, release, slug swap).
func BenchmarkWarmRebuild(b *testing.B) {
	app := newApp(b, map[string]string{"first.txt": "x", "Procfile": "web: echo hi\n"})
	makeTree(b, filepath.Join(app, "src"), 2_000)
	opts := buildOpts(b, app, nil, "bp-first", "bp-second")
	if _, err := Build(context.Background(), opts); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Build(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
}
