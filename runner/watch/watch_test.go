package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// deadline bounds every wait for something that must happen.
const deadline = 10 * time.Second

type harness struct {
	t     *testing.T
	root  string
	w     *Watcher
	warns chan error
	done  chan error // Run's result
}

// start runs a Watcher on root until the test ends. Unless opt says
// otherwise, the debounce is short to keep the tests fast.
func start(t *testing.T, root string, opt Options) *harness {
	t.Helper()
	h := create(t, root, opt)
	h.run()
	return h
}

// create makes the Watcher without running it.
func create(t *testing.T, root string, opt Options) *harness {
	t.Helper()
	h := &harness{t: t, root: root, warns: make(chan error, 100), done: make(chan error, 1)}
	opt.Warn = func(err error) {
		select {
		case h.warns <- err:
		default:
		}
	}
	if opt.Debounce == 0 {
		opt.Debounce = 30 * time.Millisecond
	}
	w, err := New(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	t.Cleanup(func() { w.Close() })
	return h
}

// run runs the Watcher until the test ends.
func (h *harness) run() {
	t := h.t
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.done <- h.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(deadline):
			t.Error("Run did not return after cancel")
		}
	})
}

// next returns the next batch.
func (h *harness) next() Batch {
	h.t.Helper()
	select {
	case b, ok := <-h.w.Changes():
		if !ok {
			h.t.Fatal("Changes closed")
		}
		return b
	case <-time.After(deadline):
		h.t.Fatalf("no batch within %v", deadline)
	}
	panic("unreachable")
}

// waitFor reads batches until every path in want has been reported and
// fails if a path in never is reported meanwhile. Write the never paths
// before the want paths: events are handled in order, so a never path that
// was not filtered shows up no later than the last want path.
func (h *harness) waitFor(want, never []string) map[string]bool {
	h.t.Helper()
	seen := map[string]bool{}
	for {
		missing := 0
		for _, p := range want {
			if !seen[p] {
				missing++
			}
		}
		if missing == 0 {
			return seen
		}
		b := h.next()
		if !slices.IsSorted(b.Paths) || len(slices.Compact(slices.Clone(b.Paths))) != len(b.Paths) {
			h.t.Errorf("batch not sorted and deduplicated: %q", b.Paths)
		}
		for _, p := range b.Paths {
			seen[p] = true
			if slices.Contains(never, p) {
				h.t.Errorf("%s reported, want it ignored (batch %q)", p, b.Paths)
			}
		}
	}
}

// dirs returns the watched directories.
func (h *harness) dirs() []string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	d, err := h.w.watchedDirs(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *harness) wantDirs(want ...string) {
	h.t.Helper()
	if got := h.dirs(); !slices.Equal(got, want) {
		h.t.Errorf("watched dirs = %q, want %q", got, want)
	}
}

func write(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tmpfsDir returns a temporary directory on /dev/shm when there is one, for
// tests that create files faster than a busy disk allows.
func tmpfsDir(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "ganger-watch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func mkdir(t *testing.T, root string, rels ...string) {
	t.Helper()
	for _, rel := range rels {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewNestedDirPickedUp(t *testing.T) {
	root := t.TempDir()
	h := start(t, root, Options{})
	// mkdir -p a/b/c && touch a/b/c/x: all done before the event for "a"
	// is read, so the files inside must come from listing the new tree.
	mkdir(t, root, "a/b/c")
	write(t, root, "a/b/c/x", "")
	h.waitFor([]string{"a", "a/b", "a/b/c", "a/b/c/x"}, nil)
	h.wantDirs("", "a", "a/b", "a/b/c")
	// And the new directories are watched from now on.
	write(t, root, "a/b/c/y", "1")
	write(t, root, "a/b/z", "1")
	h.waitFor([]string{"a/b/c/y", "a/b/z"}, nil)
}

func TestRemovedDirDropped(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a/b/f", "")
	write(t, root, "keep/f", "")
	h := start(t, root, Options{})
	h.wantDirs("", "a", "a/b", "keep")

	if err := os.RemoveAll(filepath.Join(root, "a")); err != nil {
		t.Fatal(err)
	}
	h.waitFor([]string{"a"}, nil)
	h.wantDirs("", "keep")

	// A directory created again under the same name is watched afresh.
	write(t, root, "a/y", "1")
	h.waitFor([]string{"a/y"}, nil)
	h.wantDirs("", "a", "keep")
	write(t, root, "a/y", "2")
	if b := h.next(); !slices.Equal(b.Paths, []string{"a/y"}) {
		t.Errorf("batch = %q, want [a/y]", b.Paths)
	}
}

func TestRenamedDirFollowed(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a/b/f", "")
	h := start(t, root, Options{})
	if err := os.Rename(filepath.Join(root, "a"), filepath.Join(root, "c")); err != nil {
		t.Fatal(err)
	}
	h.waitFor([]string{"a", "c", "c/b", "c/b/f"}, nil)
	h.wantDirs("", "c", "c/b")
	// Events below the moved directory carry its new name.
	write(t, root, "c/b/g", "")
	h.waitFor([]string{"c/b/g"}, []string{"a/b/g"})
}

func TestGitignore(t *testing.T) {
	root := t.TempDir()
	write(t, root, ".gitignore", "# build output\n*.log\n!keep.log\n/tmp/\nbuild/\ngen/**\n")
	write(t, root, "sub/.gitignore", "*.out\n!/local.out\n/cache\n!app.log\n")
	mkdir(t, root, "tmp", "build", "gen", "cache", "sub/tmp", "sub/build", "sub/cache", "sub/deep")
	h := start(t, root, Options{})
	h.wantDirs("", "cache", "gen", "sub", "sub/deep", "sub/tmp")

	ignored := []string{"app.log", "tmp/x", "build/x", "gen/x", "sub/a.out", "sub/build/y",
		"sub/cache/z", "sub/deep/local.out", "sub/deep/app.out"}
	seen := []string{"keep.log", "sub/local.out", "sub/app.log", "sub/tmp/x", "cache/z", "main.go"}
	for _, p := range append(ignored, seen...) {
		write(t, root, p, "x")
	}
	h.waitFor(seen, ignored)
}

func TestGitignoreEdited(t *testing.T) {
	root := t.TempDir()
	write(t, root, "out/f", "")
	write(t, root, "sub/out/f", "")
	h := start(t, root, Options{})
	h.wantDirs("", "out", "sub", "sub/out")

	write(t, root, "sub/.gitignore", "out/\n")
	h.waitFor([]string{"sub/.gitignore"}, nil)
	h.wantDirs("", "out", "sub")
	write(t, root, ".gitignore", "out/\n")
	h.waitFor([]string{".gitignore"}, nil)
	h.wantDirs("", "sub")
	write(t, root, "out/g", "")
	write(t, root, "x", "")
	h.waitFor([]string{"x"}, []string{"out/g"})

	// Removing the root .gitignore watches "out" again; sub/.gitignore
	// still ignores sub/out.
	if err := os.Remove(filepath.Join(root, ".gitignore")); err != nil {
		t.Fatal(err)
	}
	h.waitFor([]string{".gitignore"}, nil)
	h.wantDirs("", "out", "sub")
	write(t, root, "sub/out/g", "")
	write(t, root, "out/h", "")
	h.waitFor([]string{"out/h"}, []string{"sub/out/g"})
}

func TestDefaultIgnores(t *testing.T) {
	root := t.TempDir()
	write(t, root, ".gitignore", "!node_modules\n!.git/\n")
	write(t, root, ".git/HEAD", "")
	write(t, root, "node_modules/pkg/index.js", "")
	write(t, root, ".ganger/state", "")
	h := start(t, root, Options{})
	h.wantDirs("")

	ignored := []string{".git/HEAD", ".git/refs", "node_modules/pkg/index.js", ".ganger/state",
		"web/node_modules/x/y.js", ".main.go.swp", "main.go.swo",
		"main.go~", ".#main.go", "#main.go#", "4913", "web/4913"}
	write(t, root, "web/app.js", "")
	h.waitFor([]string{"web", "web/app.js"}, nil)
	for _, p := range ignored {
		write(t, root, p, "")
	}
	write(t, root, "main.go", "")
	h.waitFor([]string{"main.go"}, append(ignored, "web/node_modules", "web/node_modules/x"))
	h.wantDirs("", "web")
}

func TestOptionIgnore(t *testing.T) {
	root := t.TempDir()
	write(t, root, ".gitignore", "*.gen.go\n")
	mkdir(t, root, "docs", "web/docs")
	h := start(t, root, Options{Ignore: []string{"/docs/", "*.tmp", "!api.gen.go"}})
	h.wantDirs("", "web", "web/docs")
	ignored := []string{"docs/x.md", "a.tmp", "web/b.tmp", "x.gen.go"}
	for _, p := range ignored {
		write(t, root, p, "")
	}
	write(t, root, "api.gen.go", "")
	write(t, root, "web/docs/y.md", "")
	h.waitFor([]string{"api.gen.go", "web/docs/y.md"}, ignored)
}

// TestEditorSave replays vim's save (write test file, backup by rename,
// write, drop the backup): one batch naming only the file.
func TestEditorSave(t *testing.T) {
	root := t.TempDir()
	write(t, root, "main.go", "old")
	h := start(t, root, Options{Debounce: 100 * time.Millisecond})
	p := filepath.Join(root, "main.go")
	write(t, root, ".main.go.swp", "swap")
	write(t, root, "4913", "")
	if err := os.Remove(filepath.Join(root, "4913")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p, p+"~"); err != nil {
		t.Fatal(err)
	}
	write(t, root, "main.go", "new")
	if err := os.Remove(p + "~"); err != nil {
		t.Fatal(err)
	}
	if b := h.next(); !slices.Equal(b.Paths, []string{"main.go"}) {
		t.Errorf("batch = %q, want [main.go]", b.Paths)
	}
}

func TestSymlinksNotFollowed(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	mkdir(t, root, "real")
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	h := start(t, root, Options{})
	h.wantDirs("", "real")

	// A link made later is reported as a change, never followed.
	if err := os.Symlink(outside, filepath.Join(root, "late")); err != nil {
		t.Fatal(err)
	}
	h.waitFor([]string{"late"}, nil)
	h.wantDirs("", "real")

	write(t, outside, "f", "")
	write(t, outside, "sub/g", "")
	write(t, root, "real/h", "")
	h.waitFor([]string{"real/h"}, []string{"out/f", "late/f", "late/sub", "late/sub/g", "in/h"})
}

func TestRootSymlinkResolved(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "app")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	h := start(t, link, Options{})
	want, err := filepath.EvalSymlinks(real)
	if err != nil {
		t.Fatal(err)
	}
	if h.w.Root() != want {
		t.Errorf("Root() = %q, want %q", h.w.Root(), want)
	}
	write(t, real, "x", "")
	h.waitFor([]string{"x"}, nil)
}

// TestBurst writes 1,000 files, as a git checkout does: with the default
// 200 ms debounce they must come as exactly one batch. The clock is a fake
// one that moves only between groups of 100 files, by half the debounce: the
// checkout spans 4.5 times the debounce, but its changes are never more than
// half of it apart. (Each file is created empty: one event each, so that
// once its path is pending, its every event has been handled.)
func TestBurst(t *testing.T) {
	root := t.TempDir()
	mkdir(t, root, "src")
	clk := newFakeClock()
	h := start(t, root, Options{Debounce: DefaultDebounce, clock: clk})
	var want []string
	for group := range 10 {
		var files []string
		for i := range 100 {
			files = append(files, fmt.Sprintf("src/f%04d.go", 100*group+i))
		}
		for _, rel := range files {
			if err := os.WriteFile(filepath.Join(root, rel), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, files...)
		h.waitHandled(clk, files...)
		clk.Advance(DefaultDebounce / 2)
		if _, ready := h.state(); ready != nil {
			t.Fatalf("a batch of %d paths was cut after %d files, %v into the burst, with changes only %v apart",
				len(ready.Paths), len(want), time.Duration(group+1)*DefaultDebounce/2, DefaultDebounce/2)
		}
	}
	clk.Advance(DefaultDebounce / 2) // a debounce of quiet since the last change
	b := h.next()
	if !slices.Equal(b.Paths, want) {
		t.Fatalf("first batch has %d paths, want the %d files (first %q)", len(b.Paths), len(want), b.Paths[:min(3, len(b.Paths))])
	}
	h.wantNothingMore(clk)
}

// TestTrailingEdge spreads changes over more than the debounce, each less
// than the debounce after the last: the timer must restart at each one, so
// that they still make one batch, cut once a debounce of quiet follows the
// last. The clock is a fake one that moves only between changes.
func TestTrailingEdge(t *testing.T) {
	root := t.TempDir()
	const (
		debounce = 150 * time.Millisecond
		gap      = debounce * 4 / 5
	)
	clk := newFakeClock()
	h := start(t, root, Options{Debounce: debounce, MaxWait: -1, clock: clk})
	var want []string
	for i := range 5 { // 5 gaps of 4/5 of the debounce: 4 debounces in all
		rel := fmt.Sprintf("f%02d", i)
		write(t, root, rel, "") // created empty: one event
		want = append(want, rel)
		h.waitHandled(clk, rel)
		clk.Advance(gap)
		if _, ready := h.state(); ready != nil {
			t.Fatalf("batch %q cut %v after the change to %s, want none before %v of quiet", ready.Paths, gap, rel, debounce)
		}
	}
	clk.Advance(debounce - gap)
	if b := h.next(); !slices.Equal(b.Paths, want) {
		t.Fatalf("first batch = %q, want all of %q", b.Paths, want)
	}
	h.wantNothingMore(clk)
}

// TestOverflow floods the kernel queue before Run reads it: the watcher
// must warn, rescan (picking up a directory whose creation was lost) and
// deliver a batch marked Overflow.
func TestOverflow(t *testing.T) {
	root := tmpfsDir(t)
	mkdir(t, root, "src")
	h := create(t, root, Options{})
	// Until Run reads, the kernel queue (fs.inotify.max_queued_events,
	// 16384 by default) fills with two events per file.
	const files = 20000
	for i := range files {
		if err := os.WriteFile(filepath.Join(root, "src", fmt.Sprintf("f%05d", i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkdir(t, root, "late")
	h.run()
	overflowed := false
	for !overflowed {
		b := h.next()
		overflowed = b.Overflow
	}
	select {
	case err := <-h.warns:
		if !errors.Is(err, ErrOverflow) {
			t.Errorf("warning %v, want ErrOverflow", err)
		}
	default:
		t.Error("no warning")
	}
	if !slices.Contains(h.dirs(), "late") {
		t.Errorf("watched dirs %q lack late/ after the rescan", h.dirs())
	}
	write(t, root, "late/x", "")
	h.waitFor([]string{"late/x"}, nil)
}

// TestMaxWait keeps changing a file faster than the debounce: MaxWait must
// still cut a batch while the changes go on.
func TestMaxWait(t *testing.T) {
	root := t.TempDir()
	h := start(t, root, Options{Debounce: 100 * time.Millisecond, MaxWait: 300 * time.Millisecond})
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(20 * time.Millisecond) // paces the stream, synchronises nothing
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if err := os.WriteFile(filepath.Join(root, "log.txt"), []byte("x"), 0o644); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	defer func() { close(stop); <-stopped }()
	select {
	case b := <-h.w.Changes():
		if !slices.Equal(b.Paths, []string{"log.txt"}) {
			t.Errorf("batch = %q, want [log.txt]", b.Paths)
		}
	case <-time.After(deadline):
		t.Fatal("no batch while the changes went on")
	}
}

func TestMerge(t *testing.T) {
	b := merge(nil, map[string]struct{}{"b": {}, "a": {}}, false)
	if !slices.Equal(b.Paths, []string{"a", "b"}) || b.Overflow {
		t.Errorf("merge = %+v", b)
	}
	b = merge(b, map[string]struct{}{"c": {}, "a": {}}, true)
	if !slices.Equal(b.Paths, []string{"a", "b", "c"}) || !b.Overflow {
		t.Errorf("merge = %+v", b)
	}
}

func TestRootRemoved(t *testing.T) {
	root := filepath.Join(t.TempDir(), "app")
	mkdir(t, root, ".")
	w, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "removed or renamed") {
			t.Errorf("Run = %v, want a root removed error", err)
		}
	case <-time.After(deadline):
		t.Fatal("Run did not return")
	}
	if _, ok := <-w.Changes(); ok {
		t.Error("Changes not closed")
	}
}

func TestCloseEndsRun(t *testing.T) {
	w, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(deadline):
		t.Fatal("Run did not return")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := w.Run(context.Background()); err == nil {
		t.Error("second Run = nil, want an error")
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "file", "")
	tests := []struct {
		name, root string
		opt        Options
		want       string
	}{
		{"missing root", filepath.Join(dir, "nope"), Options{}, "no such file"},
		{"root is a file", filepath.Join(dir, "file"), Options{}, "not a directory"},
		{"bad ignore", dir, Options{Ignore: []string{"[oops"}}, `ignore pattern "[oops"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(tt.root, tt.opt)
			if err == nil {
				w.Close()
				t.Fatal("New = nil error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestUnreadableDirWarned(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory")
	}
	root := t.TempDir()
	mkdir(t, root, "locked/inner")
	if err := os.Chmod(filepath.Join(root, "locked"), 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755) })
	h := start(t, root, Options{})
	select {
	case err := <-h.warns:
		if !strings.Contains(err.Error(), "locked") {
			t.Errorf("warning %v does not name the directory", err)
		}
	case <-time.After(deadline):
		t.Fatal("no warning")
	}
}
