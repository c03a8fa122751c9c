package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/journal"
	"github.com/gangerdev/ganger/runner/logmux"
	"github.com/gangerdev/ganger/runner/watch"
)

// WatchOptions are start --watch's.
type WatchOptions struct {
	Debounce time.Duration // 0: ganger.yml's, else the watcher's default
	Ignore   []string      // more gitignore-style patterns, winning over the rest
	// Leave are files never to react to: ganger's own log when its output
	// goes to a file inside the app ("ganger start -w > log").
	Leave []string
	// Reread, when set, resolves the options again after .foreman changed:
	// the app's and the selection (-m with the types named).
	Reread func() (Options, Selection, error)
}

// live runs beside the supervisor while start runs: the control socket and,
// with --watch, the file watcher.
type live struct {
	mux     *logmux.Mux
	plan    *plan
	srv     *control.Server
	watcher *watch.Watcher
	reread  func() (Options, Selection, error)
	loops   *loopGuard              // owned by the watch goroutine
	quit    context.CancelCauseFunc // ends the run, for ganger quit
	alerts  *alerter                // nil without crash alerts
	router  *routed                 // nil without --router
	journal *journal.Journal

	// Owned by the watch goroutine.
	app *App
	cf  *config.File
}

// followDrain bounds how long, once the run has ended, the control socket
// waits for the followers of ganger logs to be sent its last lines.
const followDrain = 5 * time.Second

// serve runs the control socket until ctx ends.
func (l *live) serve(ctx context.Context, sup *runner.Supervisor) {
	if l.srv != nil {
		// ctx ends once the run has. The followers of ganger logs then get
		// what was recorded up to its end before the server stops (which
		// cuts their connections); a follower that does not read gets
		// followDrain.
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		stop := context.AfterFunc(ctx, func() {
			l.journal.Close()
			dctx, dcancel := context.WithTimeout(context.Background(), followDrain)
			defer dcancel()
			l.journal.Drain(dctx)
			cancel()
		})
		defer stop()
		l.srv.Serve(sctx, controlHandler{sup: sup, quit: l.quit, router: l.router, journal: l.journal})
	}
}

// watchLoop turns batches of changes into restarts and reloads until ctx
// ends.
func (l *live) watchLoop(ctx context.Context, sup *runner.Supervisor) {
	if l.watcher == nil {
		return
	}
	go l.watcher.Run(ctx)
	for b := range l.watcher.Changes() {
		l.changed(ctx, sup, b)
	}
}

// appFiles are the paths, relative to root, of the files whose change
// reloads the formation instead of restarting processes.
func (a *App) appFiles(root string) (envFiles map[string]bool, procfilePath, configPath string) {
	rel := func(path string) string {
		abs, err := filepath.Abs(path)
		if err != nil {
			return ""
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		r, err := filepath.Rel(root, abs)
		if err != nil || !filepath.IsLocal(r) {
			return ""
		}
		return filepath.ToSlash(r)
	}
	envFiles = map[string]bool{}
	for _, f := range a.EnvFiles {
		if r := rel(f); r != "" {
			envFiles[r] = true
		}
	}
	if len(a.EnvFiles) == 0 {
		envFiles[".env"] = true // created later, it is read by the next reload
	}
	return envFiles, rel(a.ProcfilePath), rel(filepath.Join(a.Root, config.FileName))
}

// decision is what one batch of changes calls for: which of the app's own
// files to read again, and the other paths changed.
type decision struct {
	envChanged, pfChanged, cfChanged, foremanChanged bool
	code                                             []string // other paths, relative to the watch root
	overflow                                         bool     // too many changes to tell which
}

// reload reports whether the app's files must be read again.
func (d decision) reload() bool {
	return d.envChanged || d.pfChanged || d.cfChanged || d.foremanChanged
}

// classify sorts a batch of changed paths (relative to the watch root
// root): a change to an env file, the Procfile, ganger.yml or .foreman
// reloads the formation; any other change may restart processes, unless
// the file is gone by the time the burst settled (an editor's or sed -i's
// temporary file, which existed for microseconds). An overflow does both,
// for everything.
func classify(a *App, root string, b watch.Batch) decision {
	envFiles, pfPath, cfPath := a.appFiles(root)
	foreman := ".foreman"
	if r, err := filepath.Rel(root, filepath.Join(a.Root, foreman)); err == nil {
		foreman = filepath.ToSlash(r)
	}
	d := decision{overflow: b.Overflow}
	for _, path := range b.Paths {
		switch {
		case envFiles[path]:
			d.envChanged = true
		case path == pfPath:
			d.pfChanged = true
		case path == cfPath:
			d.cfChanged = true
		case path == foreman:
			d.foremanChanged = true
		default:
			if _, err := os.Lstat(filepath.Join(root, filepath.FromSlash(path))); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			d.code = append(d.code, path)
		}
	}
	if b.Overflow {
		d.envChanged, d.pfChanged, d.cfChanged, d.foremanChanged = true, true, true, true
	}
	return d
}

// restarts are, for each type of a (configured by cf) that the change
// restarts, the paths that concern it; the types in Procfile order.
func (d decision) restarts(a *App, cf *config.File) (types []string, paths map[string][]string) {
	if len(d.code) == 0 && !d.overflow {
		return nil, nil
	}
	paths = map[string][]string{}
	for _, t := range a.Procfile.Names() {
		pc := cf.For(t)
		var mine []string
		for _, p := range d.code {
			if concerns(pc, []string{p}, false) {
				mine = append(mine, p)
			}
		}
		if len(mine) > 0 || d.overflow && concerns(pc, nil, true) {
			types = append(types, t)
			paths[t] = mine
		}
	}
	return types, paths
}

// changed acts on one batch: reload first, then restart what the change
// concerns in the formation as it now is, unless a type restarts itself.
func (l *live) changed(ctx context.Context, sup *runner.Supervisor, b watch.Batch) {
	d := classify(l.app, l.watcher.Root(), b)
	if d.reload() {
		l.reload(ctx, sup, d)
	}
	types, paths := d.restarts(l.app, l.cf)
	if len(types) == 0 {
		return
	}
	running, err := sup.Status(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	var names, changed []string
	for _, t := range types {
		mine := paths[t]
		if !d.overflow {
			if mine = l.loops.filter(t, mine); len(mine) == 0 {
				continue
			}
			var started time.Time
			for _, s := range running {
				if s.Type == t && s.Started.After(started) {
					started = s.Started
				}
			}
			if ok, msg := l.loops.check(t, mine, started, now); !ok {
				l.mux.Line(logmux.SystemName, msg)
				continue
			}
		}
		for _, p := range mine {
			if !slices.Contains(changed, p) {
				changed = append(changed, p)
			}
		}
		for _, s := range running {
			// A process stopped with "ganger stop" stays stopped until
			// "ganger restart"; a crashed one is started again.
			if s.Type == t && s.State != runner.StateStopped {
				names = append(names, s.Name)
			}
		}
	}
	if len(names) > 0 {
		slices.Sort(changed)
		if err := sup.Restart(ctx, names, describeChange(changed, d.overflow)); err != nil && !errors.Is(err, runner.ErrShuttingDown) && ctx.Err() == nil {
			l.mux.Line(logmux.SystemName, "restart failed: "+err.Error())
		}
	}
}

// concerns reports whether a change of paths restarts a type configured as
// pc: when its watch globs match one, or, without globs, always (oneshots
// only by glob).
func concerns(pc *config.Process, paths []string, overflow bool) bool {
	if len(pc.Watch) == 0 {
		return !pc.Oneshot
	}
	if overflow {
		return true
	}
	for _, path := range paths {
		for _, g := range pc.Watch {
			if watch.Match(g, path) {
				return true
			}
		}
	}
	return false
}

// describeChange says what changed: "app/main.go changed", "app/main.go
// and 3 more changed".
func describeChange(paths []string, overflow bool) string {
	switch {
	case overflow:
		return "files changed (too many to tell which)"
	case len(paths) == 1:
		return paths[0] + " changed"
	}
	return fmt.Sprintf("%s and %d more changed", paths[0], len(paths)-1)
}

// reload reads the app's files again and applies the new formation. On an
// error the running processes are left as they are.
func (l *live) reload(ctx context.Context, sup *runner.Supervisor, d decision) {
	say := func(err error) {
		l.mux.Line(logmux.SystemName, fmt.Sprintf("%v; the processes keep running as they were", err))
	}
	opts, sel := l.app.opts, l.plan.sel
	if d.foremanChanged && l.reread != nil {
		var err error
		if opts, sel, err = l.reread(); err != nil {
			say(err)
			return
		}
	}
	a, err := Load(opts)
	if err != nil {
		say(err)
		return
	}
	cf, err := a.Config()
	if err != nil {
		say(err)
		return
	}
	pl := *l.plan
	pl.sel = sel
	specs, err := pl.specs(a, cf)
	if err != nil {
		say(err)
		return
	}
	reason := reloadReason(l.app, a, d)
	if err := sup.Update(ctx, specs, reason); err != nil {
		if !errors.Is(err, runner.ErrShuttingDown) && ctx.Err() == nil {
			say(err)
		}
		return
	}
	l.app, l.cf, l.plan = a, cf, &pl
	if l.alerts != nil {
		l.alerts.setSpecs(specs)
	}
}

// reloadReason says what a reload from old to a was for: which files
// changed and, for env files, which keys (never their values).
func reloadReason(old, a *App, d decision) string {
	var what []string
	if d.pfChanged {
		what = append(what, RelPath(a.ProcfilePath)+" changed")
	}
	if d.envChanged {
		keys := changedKeys(old.Env, a.Env)
		files := strings.Join(a.EnvFiles, ", ")
		if files == "" {
			files = ".env"
		}
		switch {
		case len(keys) == 0:
			what = append(what, files+" changed (no key changed)")
		default:
			what = append(what, fmt.Sprintf("%s changed (%s)", files, strings.Join(keys, ", ")))
		}
	}
	if d.cfChanged {
		what = append(what, config.FileName+" changed")
	}
	if d.foremanChanged {
		what = append(what, ".foreman changed")
	}
	return strings.Join(what, "; ")
}

// changedKeys names the keys whose value differs between two environments:
// added, removed or changed. Values are never shown.
func changedKeys(a, b *env.Env) []string {
	av, bv := map[string]string{}, map[string]string{}
	for _, v := range a.Vars() {
		av[v.Key] = v.Value
	}
	for _, v := range b.Vars() {
		bv[v.Key] = v.Value
	}
	var out []string
	for k, v := range av {
		if w, ok := bv[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range bv {
		if _, ok := av[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// newWatcher sets up --watch for the app, reporting problems that do not
// stop it (the inotify limit) on the log.
func (a *App) newWatcher(cf *config.File, o WatchOptions, mux *logmux.Mux) (*watch.Watcher, error) {
	debounce := cf.Debounce
	if o.Debounce > 0 {
		debounce = o.Debounce
	}
	// The app's own files are read again when they change, even when a
	// .gitignore leaves them out (.env usually is); the user's patterns
	// come last and win.
	var ignore []string
	for _, f := range append(append([]string{}, a.EnvFiles...), a.ProcfilePath, filepath.Join(a.Root, config.FileName), filepath.Join(a.Root, ".env"), filepath.Join(a.Root, ".foreman")) {
		if r, err := filepath.Rel(a.Root, absPath(f)); err == nil && filepath.IsLocal(r) {
			ignore = append(ignore, "!/"+filepath.ToSlash(r))
		}
	}
	ignore = append(ignore, cf.WatchIgnore...)
	ignore = append(ignore, o.Ignore...)
	// ganger's own log, "ganger start -w > log" in the app root, would
	// restart the processes at every line they print.
	for _, f := range o.Leave {
		if r, err := filepath.Rel(a.Root, f); err == nil && filepath.IsLocal(r) {
			ignore = append(ignore, "/"+filepath.ToSlash(r))
		}
	}
	warn := func(err error) { mux.Line(logmux.SystemName, "watch: "+err.Error()) }
	start := time.Now()
	w, err := watch.New(a.Root, watch.Options{Debounce: debounce, Ignore: ignore, Warn: warn})
	if err != nil {
		return nil, err
	}
	mux.Line(logmux.SystemName, fmt.Sprintf("watching %s for changes (set up in %.1fms)", RelPath(a.Root), float64(time.Since(start).Microseconds())/1000))
	return w, nil
}

// absPath is path made absolute, or path when that fails.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// OutputFiles returns the paths of the regular files among ws (ganger's
// stdout and stderr) on Linux, from /proc/self/fd; none elsewhere.
func OutputFiles(ws ...any) []string {
	var out []string
	for _, w := range ws {
		f, ok := w.(*os.File)
		if !ok {
			continue
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if path, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd())); err == nil && filepath.IsAbs(path) {
			out = append(out, path)
		}
	}
	return out
}
