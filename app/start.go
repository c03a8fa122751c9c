package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/gangerdev/ganger/app/router"
	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/journal"
	"github.com/gangerdev/ganger/runner/logmux"
	"github.com/gangerdev/ganger/runner/watch"
)

// Output says how a formation's output is shown.
type Output struct {
	Out       io.Writer // where the lines go; an *os.File pipe is watched for its reader's exit
	Color     bool
	Timestamp bool
	Prefix    bool
}

// TTY asks for every process to run on its own pseudo-terminal. Cols and
// Rows are ganger's own terminal's size, or 0 when it has none; a process's
// width is that less the prefix column.
// Input makes each terminal the process's stdin too, so that "ganger
// attach" can type into it (a detached start's terminals take input).
type TTY struct {
	Cols, Rows int
	Input      bool
}

// Default terminal size when ganger's own is unknown.
const (
	defaultCols = 80
	defaultRows = 24
	minCols     = 20 // a child's width never shrinks below this for the prefix
)

// StartOptions are what "ganger start" was asked for, beyond the app.
type StartOptions struct {
	Selection
	Policies
	Output      Output
	TTY         *TTY          // nil: pipes
	NoPortCheck bool          // skip the check that every PORT is free
	NoRelease   bool          // from a slug: skip the release phase
	Watch       *WatchOptions // nil: no --watch
	Control     *control.Options
	Warn        io.Writer // for warnings that do not stop the start
	Signals     Signals
	Alerts      Alerts // on_crash and notify, over ganger.yml's
	Routing     Routing
	// Up, when set, is called once the formation is up: every process
	// started, those with a readiness check ready, oneshots succeeded (a
	// detached start returns then).
	Up func()
	// LogPath is the file the output goes to, shown by ganger ps.
	LogPath string
}

// formation is what start and check --boot run: the specs, the release
// phase before them (or nil), and the output they share.
type formation struct {
	cf      *config.File
	specs   []runner.Spec
	release *runner.Spec
	mux     *logmux.Mux
}

// prepare reads ganger.yml and builds the formation pl asks for, with the
// release phase of a slug and the output sized for every name.
func (a *App) prepare(pl *plan, skipRelease bool, out Output, tty *TTY, routing *Routing) (*formation, error) {
	cf, err := a.Config()
	if err != nil {
		return nil, err
	}
	pl.router = routing != nil && routing.on(cf.Router)
	specs, err := pl.specs(a, cf)
	if err != nil {
		return nil, err
	}
	release, err := a.releasePhase(pl.sel, skipRelease)
	if err != nil {
		return nil, err
	}
	var names []string
	if release != nil {
		names = append(names, release.Name)
	}
	for _, s := range specs {
		names = append(names, s.Name)
	}
	if pl.router {
		names = append(names, RouterName)
	}
	if cf.OnCrash != "" {
		names = append(names, onCrashName)
	}
	mux := logmux.New(out.Out, logmux.Options{Color: out.Color, Timestamp: out.Timestamp, Prefix: out.Prefix, Names: names})
	if tty != nil {
		pl.tty = &runner.TTY{Cols: defaultCols, Rows: defaultRows, Input: tty.Input}
		if tty.Cols > 0 && tty.Rows > 0 {
			pl.tty = &runner.TTY{Cols: max(tty.Cols-mux.PrefixWidth(), minCols), Rows: tty.Rows, Input: tty.Input}
		}
		for i := range specs {
			if specs[i].TTY != nil && specs[i].TTY.Input { // tty: in ganger.yml
				t := *pl.tty
				t.Input = true
				specs[i].TTY = &t
				continue
			}
			specs[i].TTY = pl.tty
		}
		if release != nil {
			release.TTY = pl.tty
		}
	}
	return &formation{cf: cf, specs: specs, release: release, mux: mux}, nil
}

// Config reads ganger.yml at the app root and checks it against the
// Procfile.
func (a *App) Config() (*config.File, error) {
	cf, err := config.ReadFile(a.configPath())
	if err != nil {
		return nil, err
	}
	if err := cf.Check(a.Procfile.Names(), watch.CheckGlob); err != nil {
		return nil, err
	}
	return cf, nil
}

// configPath is ganger.yml's path, as messages show it.
func (a *App) configPath() string { return RelPath(filepath.Join(a.Root, config.FileName)) }

// Start runs the formation until it stops: the first process to exit, a
// cancelled ctx (Ctrl-C) or a closed output ends it, with the stop ladder.
// From a slug, the release phase runs first. The error carries the exit
// code (ExitError) when it is not 0.
func (a *App) Start(ctx context.Context, o StartOptions) error {
	if o.Watch != nil && a.Slug != nil {
		return &UsageError{Err: errors.New("--watch and --slug do not go together: --slug runs the built slug, --watch reloads the source"), Hint: "run ganger build again after a change, or start without --slug"}
	}
	pl := newPlan(o.Selection, o.Policies)
	fm, err := a.prepare(pl, o.NoRelease, o.Output, o.TTY, &o.Routing)
	if err != nil {
		return err
	}
	if a.Slug != nil {
		// A build meanwhile keeps this slug for us (see buildpack.Slug.Hold).
		release, err := a.Slug.Hold()
		if err != nil {
			return fmt.Errorf("%s: %w", a.opts.Command, err)
		}
		defer release()
	}
	l := &live{mux: fm.mux, plan: pl, app: a, cf: fm.cf}
	if o.Watch != nil {
		l.reread = o.Watch.Reread
		l.loops = newLoopGuard(o.Watch.Debounce)
	}
	// The control socket is taken first: a second start of the same app is
	// told so, rather than that its ports are busy.
	if o.Control != nil {
		srv, err := control.Listen(ctx, a.Root, *o.Control)
		var already *control.AlreadyRunningError
		switch {
		case errors.As(err, &already):
			return &ExitError{Code: 1, Err: fmt.Errorf("%w; hint: use \"ganger ps\", \"ganger restart\" or \"ganger stop\" to control it", err)}
		case err != nil:
			if o.Warn != nil {
				fmt.Fprintf(o.Warn, "ganger: warning: no control socket (%v): ganger ps, restart and stop will not reach this run\n", err)
			}
		default:
			l.srv = srv
			defer srv.Close()
			srv.SetLog(o.LogPath)
			if d := srv.Displaced(); d != "" && o.Warn != nil {
				fmt.Fprintf(o.Warn, "ganger: warning: %s belongs to another user; the control socket is in %s\n", d, filepath.Dir(srv.Socket()))
			}
		}
	}
	if !o.NoPortCheck {
		if err := checkPorts(fm.specs, pl.router, a.Port); err != nil {
			return err
		}
	}
	var rd *routed
	if pl.router {
		lns, err := listenRouter(a.Port)
		if err != nil {
			return err
		}
		defer func() {
			for _, ln := range lns {
				ln.Close()
			}
		}()
		rd = &routed{port: a.Port, lns: lns}
		l.router = rd
	}
	if fm.release != nil {
		if err := a.runRelease(ctx, *fm.release, fm.mux, o.Signals); err != nil {
			return err
		}
	}
	if o.Watch != nil {
		if l.watcher, err = a.newWatcher(fm.cf, *o.Watch, fm.mux); err != nil {
			return err
		}
		defer l.watcher.Close()
	}
	// Every line and event is recorded for ganger logs and the alerts.
	l.journal = journal.New(journal.Options{})
	defer l.journal.Close()
	sink, alerts := a.installAlerts(l.journal.Tee(fm.mux), l.journal, fm.cf, fm.specs, o.Alerts, o.Warn)
	if alerts != nil {
		defer alerts.Close()
		l.alerts = alerts
	}
	beside := []besideFunc{l.serve, l.watchLoop, watchReader(o.Output.Out)}
	if rd != nil {
		rd.rt = router.New(router.Options{Timeout: o.Routing.Timeout, Log: sink.Lines(RouterName)})
		sink = routerSink{Sink: sink, rt: rd.rt}
		beside = append(beside, rd.serve(fm.mux))
		fm.mux.Event(runner.Event{Kind: runner.System, Time: time.Now(), Msg: rd.announce(fm.specs)})
	}
	if o.Up != nil {
		sink = newUpWatch(sink, fm.specs, o.Up)
	}
	opts := runner.Options{Timeout: a.Timeout(), Sink: sink, KeepGoing: o.Watch != nil}
	if alerts != nil {
		opts.Spare = alerts.spare
	}
	// ganger quit ends the run as Ctrl-C does, with its own cause.
	ctx, quit := context.WithCancelCause(ctx)
	defer quit(nil)
	l.quit = quit
	res, err := supervise(ctx, fm.specs, opts, o.Signals, beside...)
	if err != nil {
		return err
	}
	return resultError(res)
}
