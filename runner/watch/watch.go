package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is the quiet time that ends a burst of events when
// Options.Debounce is zero.
const DefaultDebounce = 200 * time.Millisecond

// Options configures a Watcher. The zero value is usable.
type Options struct {
	// Debounce is how long the tree must stay quiet after a change before
	// the changes seen so far are delivered as one Batch (trailing edge).
	// Zero means DefaultDebounce.
	Debounce time.Duration
	// MaxWait caps how long a steady stream of changes (a log file written
	// every 100 ms that nobody ignored) can hold a Batch back. Zero means
	// 10 × Debounce; a negative value means no cap.
	MaxWait time.Duration
	// Ignore holds extra patterns in gitignore syntax, relative to the root
	// (--watch-ignore). They are read after the .gitignore files, so they
	// win over them; "!pattern" re-includes what a .gitignore ignores.
	Ignore []string
	// Warn receives the problems that do not stop watching: the watch
	// limit (errors.Is(err, ErrWatchLimit)), lost events (ErrOverflow),
	// unreadable directories, bad .gitignore lines. It is called from New
	// and from the goroutine running Run, never concurrently, and should
	// not block. Nil drops them.
	Warn func(error)

	// clock is the debounce's source of time; nil means the real one.
	// Tests set a fake that moves only when told to.
	clock clock
}

// clock is where the debounce gets the time and its timer: the real clock,
// or in tests a fake one whose time moves only when the test says so.
type clock interface {
	Now() time.Time
	NewTimer(d time.Duration) timer
}

// timer is what the debounce uses of a *time.Timer, with the semantics of
// Go 1.23 and later: Reset and Stop discard a tick that has not been
// received, so no stale tick is ever seen.
type timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

// realClock is the time package.
type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }
func (r realTimer) Stop()                 { r.t.Stop() }

// Batch is one debounced set of changes.
type Batch struct {
	// Paths are the changed files and directories (created, written,
	// removed, renamed or chmod-ed, "touch" included), relative to the root,
	// slash-separated, sorted and without duplicates. When a directory
	// appears, everything in it is listed too.
	Paths []string
	// Overflow is set when the kernel dropped events: Paths is incomplete
	// and the caller should assume that anything may have changed.
	Overflow bool
}

// Watcher watches a directory tree. Create it with New, deliver its
// batches with Run, read them from Changes.
type Watcher struct {
	root     string // absolute, symlinks resolved
	debounce time.Duration
	maxWait  time.Duration
	clock    clock
	warnFn   func(error)
	fsw      *fsnotify.Watcher
	changes  chan Batch
	query    chan func(*burst) // run on the Run goroutine
	started  atomic.Bool

	// Owned by New, then by the goroutine running Run, and nobody else.
	ig          *ignorer
	dirs        map[string]struct{} // watched directories, "" for the root
	limitWarned bool
}

// New watches root and every directory below it that is not ignored. When
// it returns, the watches are in place: any change made afterwards is
// reported once Run is running (the kernel queues events until then).
//
// Symbolic links are never followed, to a directory inside the root or out
// of it; root itself may be one.
func New(root string, opt Options) (*Watcher, error) {
	abs, err := filepath.Abs(root)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("watch %s: not a directory; give the app root", root)
	}
	ig, err := newIgnorer(opt.Ignore)
	if err != nil {
		return nil, fmt.Errorf("watch: %w; patterns use gitignore syntax, e.g. 'tmp/' or '**/*.log'", err)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("start file watcher: %w%s", err, instancesHint(err))
	}
	if err := fsw.Add(abs); err != nil {
		_ = fsw.Close()
		if isLimit(err) {
			return nil, fmt.Errorf("watch %s: %w: %w; %s", root, ErrWatchLimit, err, limitHint(err))
		}
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	w := &Watcher{
		root:     abs,
		debounce: opt.Debounce,
		maxWait:  opt.MaxWait,
		clock:    opt.clock,
		warnFn:   opt.Warn,
		fsw:      fsw,
		changes:  make(chan Batch),
		query:    make(chan func(*burst)),
		ig:       ig,
		dirs:     map[string]struct{}{"": {}},
	}
	if w.debounce <= 0 {
		w.debounce = DefaultDebounce
	}
	if w.maxWait == 0 {
		w.maxWait = 10 * w.debounce
	}
	if w.clock == nil {
		w.clock = realClock{}
	}
	w.sync("", nil)
	return w, nil
}

// Root returns the watched directory: absolute, symlinks resolved.
func (w *Watcher) Root() string { return w.root }

// Changes delivers the batches. It is closed when Run returns.
func (w *Watcher) Changes() <-chan Batch { return w.changes }

// Close stops watching; a running Run returns nil. It is safe to call more
// than once and from any goroutine.
func (w *Watcher) Close() error { return w.fsw.Close() }

// Run processes events until ctx is done or Close is called, then releases
// the watches and closes Changes; it returns nil then. It returns an error
// if the root itself is removed or renamed. A Watcher runs once.
//
// Run is the only goroutine that touches the watch state. It never blocks
// on a slow reader of Changes: changes that arrive meanwhile are merged into
// the batch waiting to be taken.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("watch: Run called twice; create a new Watcher")
	}
	defer close(w.changes)
	defer w.fsw.Close()

	// Trailing-edge debounce. An editor save is a burst of events (write a
	// temp file, rename it over the original, chmod) and a git checkout is
	// thousands; each should restart the processes once, after the burst.
	// So every event that changed something pushes the one timer back by
	// the debounce, and the batch is cut only when it fires, i.e. after
	// that much quiet. Events that were all ignored do not push it back, so
	// a chatty ignored log cannot delay a restart. MaxWait bounds the total
	// delay so an endless stream still gets through.
	//
	// The timer is only used from this goroutine and read in the select
	// below, so there is no lock and no callback racing with new events.
	// With Go ≥ 1.23 timer semantics (go.mod), Reset and Stop discard a
	// value that already fired, so no stale tick is ever received. The
	// time and the timer come from w.clock: the time package, or in tests
	// a fake clock that moves only when the test says so.
	timer := w.clock.NewTimer(time.Hour)
	timer.Stop()
	b := &burst{pending: make(map[string]struct{})}
	add := func(rel string) {
		b.pending[rel] = struct{}{}
		b.added++
	}
	arm := func() {
		now := w.clock.Now()
		if b.first.IsZero() {
			b.first = now
		}
		d := w.debounce
		if w.maxWait > 0 {
			d = min(d, max(0, b.first.Add(w.maxWait).Sub(now)))
		}
		timer.Reset(d)
	}
	// onEvent handles one event; more reports whether it changed something,
	// which (re)arms the timer.
	onEvent := func(ev fsnotify.Event) (more bool, err error) {
		before := b.added
		if err := w.handle(ev, add); err != nil {
			return false, err
		}
		if b.added == before {
			return false, nil
		}
		arm()
		return true, nil
	}
	for {
		var out chan<- Batch // nil, so that case blocks, until a batch is ready
		var next Batch
		if b.ready != nil {
			out, next = w.changes, *b.ready
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return nil // Close
			}
			if _, err := onEvent(ev); err != nil {
				return err
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return nil
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				w.warn(fmt.Errorf("file watcher: %w", err))
				continue
			}
			w.warn(fmt.Errorf("%w: the kernel event queue overflowed, rescanning %s"+
				" (if it recurs, raise fs.inotify.max_queued_events%s): %w",
				ErrOverflow, w.root, current("/proc/sys/fs/inotify/max_queued_events"), err))
			w.rebuild()
			b.overflow = true
			arm()
		case <-timer.C():
			// Recheck: if this goroutine was starved of CPU, the timer may
			// have fired while events of the same burst were already
			// waiting, and select picks among ready cases at random. Take
			// a waiting event first; it pushes the timer back. Not once
			// MaxWait is up, or a flood would never be cut.
			if w.maxWait <= 0 || w.clock.Now().Sub(b.first) < w.maxWait {
				select {
				case ev, ok := <-w.fsw.Events:
					if !ok {
						return nil
					}
					if more, err := onEvent(ev); err != nil {
						return err
					} else if more {
						continue
					}
				default:
				}
			}
			b.ready = merge(b.ready, b.pending, b.overflow)
			clear(b.pending)
			b.overflow, b.first = false, time.Time{}
		case out <- next:
			b.ready = nil
		case f := <-w.query:
			f(b)
		}
	}
}

// burst is the debounce's state, owned by the goroutine running Run.
type burst struct {
	pending  map[string]struct{} // changes not yet quiet
	overflow bool                // events were lost in this burst
	first    time.Time           // first change of this burst, for MaxWait
	added    int                 // changes seen, to tell whether an event mattered
	ready    *Batch              // cut, waiting for the reader
}

// merge adds the pending changes to the batch not yet taken, if any.
func merge(ready *Batch, pending map[string]struct{}, overflow bool) *Batch {
	b := &Batch{Overflow: overflow}
	if ready != nil {
		b.Overflow = b.Overflow || ready.Overflow
		for _, p := range ready.Paths {
			pending[p] = struct{}{}
		}
	}
	b.Paths = make([]string, 0, len(pending))
	for p := range pending {
		b.Paths = append(b.Paths, p)
	}
	slices.Sort(b.Paths)
	return b
}

// inspect runs f on the Run goroutine, which owns the watch state and the
// debounce's, and returns once it has run.
func (w *Watcher) inspect(ctx context.Context, f func(*burst)) error {
	done := make(chan struct{})
	select {
	case w.query <- func(b *burst) { f(b); close(done) }:
		<-done
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// watchedDirs returns the watched directories, sorted, "" for the root.
func (w *Watcher) watchedDirs(ctx context.Context) ([]string, error) {
	var dirs []string
	err := w.inspect(ctx, func(*burst) {
		for d := range w.dirs {
			dirs = append(dirs, d)
		}
		slices.Sort(dirs)
	})
	return dirs, err
}

func (w *Watcher) warn(err error) {
	if w.warnFn != nil {
		w.warnFn(err)
	}
}

// abs turns a slash-separated relative path into an absolute one.
func (w *Watcher) abs(rel string) string {
	if rel == "" {
		return w.root
	}
	return w.root + string(filepath.Separator) + filepath.FromSlash(rel)
}

// rel is the inverse of abs; ok is false for a path outside the root.
func (w *Watcher) rel(name string) (string, bool) {
	if name == w.root {
		return "", true
	}
	r, ok := strings.CutPrefix(name, w.root+string(filepath.Separator))
	return filepath.ToSlash(r), ok
}

// show names a relative path in messages.
func show(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

func parentOf(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// within reports whether rel is dir or below it.
func within(rel, dir string) bool {
	return dir == "" || rel == dir || strings.HasPrefix(rel, dir) && rel[len(dir)] == '/'
}

// handle applies one event to the watch state and reports the changed paths
// through add.
func (w *Watcher) handle(ev fsnotify.Event, add func(string)) error {
	rel, ok := w.rel(ev.Name)
	if !ok {
		return nil
	}
	if rel == "" {
		if ev.Has(fsnotify.Remove | fsnotify.Rename) {
			return fmt.Errorf("watch root %s was removed or renamed; restart ganger from the app directory", w.root)
		}
		return nil
	}
	parent := parentOf(rel)
	if _, ok := w.dirs[parent]; !ok {
		return nil // a late event from a directory that is no longer watched
	}
	_, wasDir := w.dirs[rel]
	watched := wasDir
	if wasDir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		// The directory that had this name is gone (deleted, or moved: its
		// new name comes as a Create). Forget it and everything below, so a
		// directory created under this name later is watched afresh.
		w.drop(rel)
		watched = false
	}
	// Trust the file system over the event: by now the path may have been
	// removed, or replaced.
	fi, err := os.Lstat(w.abs(rel))
	switch {
	case err != nil: // gone
		if path.Base(rel) == ".gitignore" {
			w.sync(parent, nil)
		}
		// A vanished path we did not watch may have been an ignored
		// directory ("build/"); we cannot tell, so those rules count too.
		if !w.ig.ignored(rel, true) && (wasDir || !w.ig.ignored(rel, false)) {
			add(rel)
		}
	case fi.IsDir(): // Lstat: a symlink to a directory is not one, never followed
		if w.ig.ignored(rel, true) {
			if watched {
				w.drop(rel)
			}
			return nil
		}
		add(rel)
		if !watched || ev.Has(fsnotify.Create) {
			// New, or a new directory renamed over a watched one: watch it
			// and all below, and report what is already in it ("mkdir -p
			// a/b/c && touch a/b/c/x" is done before we see "a").
			w.sync(rel, add)
		}
	default:
		if watched { // a directory replaced by a file
			w.drop(rel)
		}
		if path.Base(rel) == ".gitignore" {
			w.sync(parent, nil)
		}
		if !w.ig.ignored(rel, false) {
			add(rel)
		}
	}
	return nil
}

// sync makes the watches below top (included) match the tree: it walks the
// directories that are not ignored, (re)adds a watch on each before listing
// it, so nothing created meanwhile is missed, reloads their .gitignore files,
// and drops the watches of directories that are gone or now ignored. With a
// non-nil report it reports every path it finds below top.
func (w *Watcher) sync(top string, report func(string)) {
	_, known := w.dirs[top]
	seen := make(map[string]struct{})
	var limited []string
	var limitErr error
	stack := []string{top}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		abs := w.abs(dir)
		// Adding a watch that exists is a cheap no-op for the same
		// directory, and the right thing for a new one with the old name.
		if err := w.fsw.Add(abs); err != nil {
			switch {
			case errors.Is(err, fsnotify.ErrClosed):
				return
			case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
				// Gone already; its removal is an event of its own.
			case isLimit(err):
				limited, limitErr = append(limited, dir), err
			default:
				w.warn(fmt.Errorf("cannot watch %s, changes there will be missed: %w", show(dir), err))
			}
			continue
		}
		w.dirs[dir] = struct{}{}
		seen[dir] = struct{}{}
		entries, err := readDir(abs)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.warn(fmt.Errorf("cannot list %s, changes below it will be missed: %w", show(dir), err))
			}
			continue
		}
		// The directory's own .gitignore applies to its entries.
		delete(w.ig.files, dir)
		for _, e := range entries {
			if e.Name() == ".gitignore" && e.Type().IsRegular() {
				w.loadIgnore(dir)
			}
		}
		for _, e := range entries {
			child := join(dir, e.Name())
			if e.IsDir() { // false for a symlink, which is never followed
				if w.ig.ignored(child, true) {
					continue
				}
				stack = append(stack, child)
				if report != nil {
					report(child)
				}
			} else if report != nil && !w.ig.ignored(child, false) {
				report(child)
			}
		}
	}
	if known {
		for d := range w.dirs {
			if _, ok := seen[d]; !ok && within(d, top) {
				w.forget(d)
			}
		}
	}
	if len(limited) == 0 {
		w.limitWarned = false
		return
	}
	if !w.limitWarned { // once until the limit stops biting, not once per directory
		w.limitWarned = true
		w.warn(limitError(show(limited[0]), len(limited), limitErr))
	}
}

// drop forgets the watch on rel and on every directory below it.
func (w *Watcher) drop(rel string) {
	for d := range w.dirs {
		if within(d, rel) {
			w.forget(d)
		}
	}
}

// forget removes one directory's watch and .gitignore rules.
func (w *Watcher) forget(dir string) {
	// The kernel drops the watch of a deleted directory by itself, so an
	// error here only means it is already gone.
	_ = w.fsw.Remove(w.abs(dir))
	delete(w.dirs, dir)
	delete(w.ig.files, dir)
}

// rebuild drops every watch and walks the tree again, after the kernel lost
// events: directories may have come, gone or moved unseen, and a moved one
// would keep reporting under its old name.
func (w *Watcher) rebuild() {
	for d := range w.dirs {
		w.forget(d)
	}
	w.dirs[""] = struct{}{} // sync re-adds it; marks the walk as a resync
	w.sync("", nil)
}

// loadIgnore reads dir's .gitignore into the ignorer.
func (w *Watcher) loadIgnore(dir string) {
	file := join(dir, ".gitignore")
	data, err := os.ReadFile(w.abs(file))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.warn(fmt.Errorf("cannot read %s, its patterns are not applied: %w", file, err))
		}
		delete(w.ig.files, dir)
		return
	}
	rules, errs := parseIgnore(data, file)
	for _, err := range errs {
		w.warn(err)
	}
	w.ig.files[dir] = rules
}

// readDir lists a directory without sorting it.
func readDir(dir string) ([]os.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}
