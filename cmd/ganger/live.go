package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/logmux"
	"github.com/gangerdev/ganger/runner/watch"
)

// liveFlags are start's flags for the development loop: reloading on
// changes and restart policies from the command line.
func liveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "restart processes when files under the app root change (.gitignore honoured)"},
		&cli.StringSliceFlag{Name: "watch-ignore", Usage: "more `GLOB`s to ignore, in gitignore syntax; repeatable"},
		&cli.StringFlag{Name: "debounce", Usage: "quiet `TIME` that ends a burst of changes (default 200ms)"},
		&cli.StringFlag{Name: "auto-restart", Aliases: []string{"r"}, Usage: "restart these `TYPES` (comma-separated, or all) whenever they exit, with backoff (overmind's -r)"},
		&cli.StringFlag{Name: "can-die", Usage: "`TYPES` (comma-separated, or all) whose exit leaves the rest running (overmind's --can-die)"},
	}
}

// plan is what start was asked to run; it turns the app's files into the
// formation's specs, again after every change to them.
type plan struct {
	types       []string
	formation   procfile.Formation
	autoRestart map[string]bool // types, or "all"
	canDie      map[string]bool
	tty         *runner.TTY
}

// typeSet reads a comma-separated list of types, "all" included.
func typeSet(set *settings, name string) map[string]bool {
	out := map[string]bool{}
	for _, t := range set.list(name) {
		out[t] = true
	}
	return out
}

// loadConfig reads ganger.yml at the app root and checks it against the
// Procfile.
func (p *project) loadConfig() (*config.File, error) {
	cf, err := config.ReadFile(relPath(filepath.Join(p.root, config.FileName)))
	if err != nil {
		return nil, err
	}
	if err := cf.Check(p.pf.Names(), watch.CheckGlob); err != nil {
		return nil, err
	}
	return cf, nil
}

// specs builds one Spec per instance.
func (pl *plan) specs(p *project, cf *config.File) ([]runner.Spec, error) {
	insts, err := procfile.Instances(p.pf, pl.types, pl.formation, p.port)
	if err != nil {
		return nil, &usageError{err: err}
	}
	if len(insts) == 0 {
		return nil, &usageError{err: errors.New("nothing to start: every process type is scaled to 0"), hint: "use -m to choose counts, such as -m all=1"}
	}
	for _, t := range []map[string]bool{pl.autoRestart, pl.canDie} {
		for name := range t {
			if _, _, ok := p.pf.Lookup(name); !ok && name != "all" {
				return nil, &usageError{err: fmt.Errorf("unknown process type %q (Procfile has: %s)", name, strings.Join(p.pf.Names(), ", "))}
			}
		}
	}
	specs := make([]runner.Spec, 0, len(insts))
	base := p.env.Render()
	for _, in := range insts {
		s, err := p.spec(in, base)
		if err != nil {
			return nil, err
		}
		s.TTY = pl.tty
		if err := applyConfig(&s, cf.For(in.Type)); err != nil {
			return nil, err
		}
		if pl.autoRestart[in.Type] || pl.autoRestart["all"] {
			s.Restart = runner.RestartAlways
		}
		if pl.canDie[in.Type] || pl.canDie["all"] {
			s.CanDie = true
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// applyConfig sets what ganger.yml says of the spec's type. web is ready
// when its PORT accepts connections unless the file says otherwise.
func applyConfig(s *runner.Spec, pc *config.Process) error {
	var err error
	if pc.Restart != "" {
		if s.Restart, err = runner.ParseRestartPolicy(pc.Restart); err != nil {
			return err
		}
	}
	if pc.StopSignal != "" {
		if s.StopSignal, err = runner.ParseSignal(pc.StopSignal); err != nil {
			return err
		}
	}
	s.Oneshot = pc.Oneshot
	s.CanDie = pc.CanDie
	s.After = pc.After
	switch {
	case pc.Ready != nil:
		s.Ready = runner.Readiness{Port: pc.Ready.Port, Line: pc.Ready.Line}
	case s.Type == "web" && !pc.Oneshot:
		s.Ready = runner.Readiness{Port: true}
	}
	return nil
}

// live runs beside the supervisor while start runs: the control socket and,
// with --watch, the file watcher.
type live struct {
	st      *streams
	mux     *logmux.Mux
	plan    *plan
	srv     *control.Server
	watcher *watch.Watcher

	// Owned by the watch goroutine.
	proj *project
	cf   *config.File
}

// controlHandler answers ganger ps, restart and stop for a running start.
type controlHandler struct{ sup *runner.Supervisor }

func (h controlHandler) Status(ctx context.Context) ([]control.Process, error) {
	sts, err := h.sup.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]control.Process, 0, len(sts))
	for _, s := range sts {
		cp := control.Process{Name: s.Name, Type: s.Type, State: string(s.State), PID: s.PID, Port: s.Port, Started: s.Started, Restarts: s.Restarts}
		if s.Exited {
			if s.Signal != 0 {
				cp.Signal = runner.SignalName(s.Signal)
			} else {
				code := s.Code
				cp.ExitCode = &code
			}
		}
		out = append(out, cp)
	}
	return out, nil
}

func (h controlHandler) Restart(ctx context.Context, names []string) error {
	return h.sup.Restart(ctx, names, "asked by ganger restart")
}

func (h controlHandler) Stop(ctx context.Context, names []string) error {
	return h.sup.Stop(ctx, names)
}

// serve runs the control socket until ctx ends.
func (l *live) serve(ctx context.Context, sup *runner.Supervisor) {
	if l.srv != nil {
		l.srv.Serve(ctx, controlHandler{sup})
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

// appFiles are the paths, relative to the watch root, of the files whose
// change reloads the formation instead of restarting processes.
func (l *live) appFiles() (envFiles map[string]bool, procfilePath, configPath string) {
	rel := func(path string) string {
		abs, err := filepath.Abs(path)
		if err != nil {
			return ""
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		r, err := filepath.Rel(l.watcher.Root(), abs)
		if err != nil || !filepath.IsLocal(r) {
			return ""
		}
		return filepath.ToSlash(r)
	}
	envFiles = map[string]bool{}
	for _, f := range l.proj.envFiles {
		if r := rel(f); r != "" {
			envFiles[r] = true
		}
	}
	if len(l.proj.envFiles) == 0 {
		envFiles[".env"] = true // created later, it is read by the next reload
	}
	return envFiles, rel(l.proj.procfilePath), rel(filepath.Join(l.proj.root, config.FileName))
}

// changed acts on one batch.
func (l *live) changed(ctx context.Context, sup *runner.Supervisor, b watch.Batch) {
	envFiles, pfPath, cfPath := l.appFiles()
	var envChanged, pfChanged, cfChanged bool
	var code []string
	for _, path := range b.Paths {
		switch {
		case envFiles[path]:
			envChanged = true
		case path == pfPath:
			pfChanged = true
		case path == cfPath:
			cfChanged = true
		default:
			code = append(code, path)
		}
	}
	if b.Overflow {
		envChanged, pfChanged, cfChanged = true, true, true
	}
	if envChanged || pfChanged || cfChanged {
		l.reload(ctx, sup, envChanged, pfChanged, cfChanged)
	}
	if len(code) == 0 && !b.Overflow {
		return
	}
	var types []string
	for _, t := range l.proj.pf.Names() {
		if l.concerns(t, code, b.Overflow) {
			types = append(types, t)
		}
	}
	if len(types) == 0 {
		return
	}
	reason := describeChange(code, b.Overflow)
	running, err := sup.Status(ctx)
	if err != nil {
		return
	}
	var names []string
	for _, s := range running {
		// A process stopped with "ganger stop" stays stopped until
		// "ganger restart"; a crashed one is started again.
		if slices.Contains(types, s.Type) && s.State != runner.StateStopped {
			names = append(names, s.Name)
		}
	}
	if len(names) > 0 {
		if err := sup.Restart(ctx, names, reason); err != nil && !errors.Is(err, runner.ErrShuttingDown) && ctx.Err() == nil {
			l.mux.Line(logmux.SystemName, "restart failed: "+err.Error())
		}
	}
}

// concerns reports whether a change of paths restarts type t: when its
// watch globs match one, or, without globs, always (oneshots only by glob).
func (l *live) concerns(t string, paths []string, overflow bool) bool {
	pc := l.cf.For(t)
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
func (l *live) reload(ctx context.Context, sup *runner.Supervisor, envChanged, pfChanged, cfChanged bool) {
	say := func(err error) {
		l.mux.Line(logmux.SystemName, fmt.Sprintf("%v; the processes keep running as they were", err))
	}
	old := l.proj
	p, cf, specs, err := l.reread()
	if err != nil {
		say(err)
		return
	}
	var what []string
	if pfChanged {
		what = append(what, relPath(p.procfilePath)+" changed")
	}
	if envChanged {
		keys := changedKeys(old.env, p.env)
		files := strings.Join(p.envFiles, ", ")
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
	if cfChanged {
		what = append(what, config.FileName+" changed")
	}
	reason := strings.Join(what, "; ")
	if err := sup.Update(ctx, specs, reason); err != nil {
		if !errors.Is(err, runner.ErrShuttingDown) && ctx.Err() == nil {
			say(err)
		}
		return
	}
	l.proj, l.cf = p, cf
}

// reread reads the app's files again and builds the formation they give.
func (l *live) reread() (*project, *config.File, []runner.Spec, error) {
	p, err := readProject(l.proj.set, false)
	if err != nil {
		return nil, nil, nil, err
	}
	cf, err := p.loadConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	specs, err := l.plan.specs(p, cf)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, cf, specs, nil
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
func newWatcher(p *project, cf *config.File, st *streams, mux *logmux.Mux) (*watch.Watcher, error) {
	debounce := cf.Debounce
	if v, ok := p.set.lookup("debounce"); ok {
		d, err := parseDuration(v)
		if err != nil {
			return nil, &usageError{err: fmt.Errorf("--debounce %q: want a duration such as 200ms or 1s", v)}
		}
		debounce = d
	}
	// The app's own files are read again when they change, even when a
	// .gitignore leaves them out (.env usually is); the user's patterns
	// come last and win.
	var ignore []string
	for _, f := range append(append([]string{}, p.envFiles...), p.procfilePath, filepath.Join(p.root, config.FileName), filepath.Join(p.root, ".env")) {
		if r, err := filepath.Rel(p.root, f); err == nil && filepath.IsLocal(r) {
			ignore = append(ignore, "!/"+filepath.ToSlash(r))
		}
	}
	ignore = append(ignore, cf.WatchIgnore...)
	ignore = append(ignore, p.set.list("watch-ignore")...)
	// ganger's own log, "ganger start -w > log" in the app root, would
	// restart the processes at every line they print.
	for _, f := range outputFiles(st) {
		if r, err := filepath.Rel(p.root, f); err == nil && filepath.IsLocal(r) {
			ignore = append(ignore, "/"+filepath.ToSlash(r))
		}
	}
	warn := func(err error) { mux.Line(logmux.SystemName, "watch: "+err.Error()) }
	start := time.Now()
	w, err := watch.New(p.root, watch.Options{Debounce: debounce, Ignore: ignore, Warn: warn})
	if err != nil {
		return nil, err
	}
	mux.Line(logmux.SystemName, fmt.Sprintf("watching %s for changes (set up in %.1fms)", relPath(p.root), float64(time.Since(start).Microseconds())/1000))
	return w, nil
}

// outputFiles returns the paths of the regular files ganger's stdout and
// stderr write to (Linux: from /proc/self/fd), none elsewhere.
func outputFiles(st *streams) []string {
	var out []string
	for _, w := range []any{st.out, st.err} {
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

// parseDuration reads "200ms", "1s" or a number of milliseconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	var ms int
	if _, err := fmt.Sscan(s, &ms); err == nil && ms > 0 && fmt.Sprint(ms) == s {
		return time.Duration(ms) * time.Millisecond, nil
	}
	return 0, fmt.Errorf("bad duration %q", s)
}
