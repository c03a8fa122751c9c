package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSetup measures New (the recursive walk and one watch per
// directory) on an app of 100,000 files in 10,000 directories, and on the
// same app with an ignored node_modules of the same size, which must cost
// nothing. Each iteration is New then Close.
//
// The trees are built on /dev/shm when it exists, since building 200,000
// files on a busy disk takes minutes; set GANGER_WATCH_BENCH_DIR to build
// them elsewhere. Run with:
//
//	go test -run '^$' -bench Setup -benchtime 10x ./runner/watch/
func BenchmarkSetup(b *testing.B) {
	base := benchDir(b)
	app := filepath.Join(base, "app")
	withModules := filepath.Join(base, "app-with-node_modules")
	began := time.Now()
	buildTree(b, app)
	buildTree(b, withModules)
	buildTree(b, filepath.Join(withModules, "node_modules"))
	b.Logf("built 300,000 files in 30,000 directories in %v", time.Since(began))

	for _, bc := range []struct{ name, root string }{
		{"100k-files-10k-dirs", app},
		{"plus-ignored-node_modules-100k-files", withModules},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var dirs int
			for b.Loop() {
				w, err := New(bc.root, Options{})
				if err != nil {
					b.Fatal(err)
				}
				dirs = len(w.dirs) // no Run yet: this goroutine owns the state
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(dirs), "watches")
		})
	}
}

func benchDir(b *testing.B) string {
	b.Helper()
	parent := os.Getenv("GANGER_WATCH_BENCH_DIR")
	if parent == "" {
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			parent = "/dev/shm"
		}
	}
	if parent == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "ganger-watch-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// buildTree makes 100 directories of 99 subdirectories each (10,000
// directories) with 10 files in every one of them (100,000 files).
func buildTree(b *testing.B, root string) {
	b.Helper()
	for i := range 100 {
		top := filepath.Join(root, fmt.Sprintf("pkg%02d", i))
		for j := range 99 {
			sub := filepath.Join(top, fmt.Sprintf("mod%02d", j))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				b.Fatal(err)
			}
			writeFiles(b, sub)
		}
		writeFiles(b, top)
	}
}

func writeFiles(b *testing.B, dir string) {
	for k := range 10 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file%d.go", k)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
