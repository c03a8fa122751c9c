package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/logmux"
)

// BootOptions are "ganger check --boot"'s: the pre-push check.
type BootOptions struct {
	Options                   // the app; Slug is implied
	Build       *Build        // build first with these; nil: take the slug as it is
	Settle      time.Duration // how long a process without a readiness check must keep running
	Limit       time.Duration // how long a process may take to be up
	Output      Output
	NoPortCheck bool
	Signals     Signals
}

// BootRow is one line of the boot check's table: a step and its verdict.
type BootRow struct {
	Name   string
	Pass   bool
	Took   time.Duration
	Detail string

	decided bool
}

// BootCheck builds the app (unless o.Build is nil), runs the release phase,
// starts the formation from the slug, waits until every process is up or
// has failed, and stops them all. It returns the table's rows, nil when the
// check was interrupted before it could say anything, and an ExitError
// unless every row passed.
func BootCheck(ctx context.Context, o BootOptions) ([]BootRow, error) {
	var rows []BootRow
	if o.Build != nil {
		a, err := Load(Options{Root: o.Root, Procfile: o.Procfile, EnvFiles: o.EnvFiles, Port: o.Port, Timeout: o.Timeout, Environ: o.Environ, ProcfileOptional: true})
		if err != nil {
			return nil, err
		}
		bo, err := a.BuildOptions(*o.Build, "check --boot")
		if err != nil {
			return nil, err
		}
		// Its own slug: a start --slug running meanwhile keeps its own.
		bo.SlugDir = buildpack.CheckSlugDir
		began := time.Now()
		_, err = buildpack.Build(ctx, bo)
		if code := InterruptCode(context.Cause(ctx)); code != 0 {
			return nil, &ExitError{Code: code, Err: errors.New("check --boot interrupted")}
		}
		row := BootRow{Name: "build", Pass: err == nil, Took: time.Since(began), Detail: "slug in " + RelPath(filepath.Join(a.Root, buildpack.CheckSlugDir))}
		if err != nil {
			row.Detail = err.Error()
			return append(rows, row), &ExitError{Code: 1, Err: BuildFailure("check --boot", a.Root, err)}
		}
		rows = append(rows, row)
	}
	lo := o.Options
	lo.Slug, lo.Command = true, "check --boot"
	if o.Build != nil {
		lo.SlugDir = buildpack.CheckSlugDir
	}
	a, err := Load(lo)
	if err != nil {
		return nil, err
	}
	sel, err := Select(o.Formation, nil)
	if err != nil {
		return nil, err
	}
	pl := newPlan(sel, Policies{})
	fm, err := a.prepare(pl, false, o.Output, nil, nil)
	if err != nil {
		return nil, err
	}
	if !o.NoPortCheck {
		// The check runs while you develop, beside a ganger start holding
		// the app's ports: it takes free ones of its own, and says which.
		from := a.Port
		if err := a.freePorts(pl, fm); err != nil {
			return nil, err
		}
		if a.Port != from {
			fm.mux.Line(logmux.SystemName, fmt.Sprintf("ports from %d are in use (a running start?): the boot check uses ports from %d", from, a.Port))
		}
	}
	if fm.release != nil {
		began := time.Now()
		err := a.runRelease(ctx, *fm.release, fm.mux, o.Signals)
		row := BootRow{Name: fm.release.Name, Pass: err == nil, Took: time.Since(began), Detail: "exited with code 0"}
		if err != nil {
			var ee *ExitError
			if errors.As(err, &ee) && ee.Err == nil {
				return nil, err // interrupted
			}
			row.Detail = err.Error()
			return append(rows, row), &ExitError{Code: 1}
		}
		rows = append(rows, row)
	}

	v := newVerdicts(fm.specs, o.Settle, time.AfterFunc)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline := func(ctx context.Context, _ *runner.Supervisor) {
		t := time.NewTimer(o.Limit)
		defer t.Stop()
		select {
		case <-v.done:
		case <-t.C:
			v.timeout(o.Limit, time.Now())
		case <-ctx.Done():
			return
		}
		cancel()
	}
	sink := bootSink{Mux: fm.mux, v: v}
	res, err := supervise(ctx, fm.specs, runner.Options{Timeout: a.Timeout(), Sink: sink, KeepGoing: true}, o.Signals, deadline)
	if err != nil {
		return nil, err
	}
	v.finish(time.Now())
	if res.Interrupted && !v.allDecided() || res.OutputClosed {
		return nil, resultError(res)
	}
	rows = append(rows, v.rows()...)
	for _, r := range rows {
		if !r.Pass {
			return rows, &ExitError{Code: 1}
		}
	}
	return rows, nil
}

// freePorts moves a's base port, by steps of 1000, to the first one where
// every PORT of the formation is free, and rebuilds fm's specs for it.
func (a *App) freePorts(pl *plan, fm *formation) error {
	from := a.Port
	var first error
	for base := from; base+100*len(a.Procfile.Entries) < 65536; base += 1000 {
		a.Port = base
		specs, err := pl.specs(a, fm.cf)
		if err != nil {
			return err
		}
		release, err := a.releasePhase(pl.sel, false)
		if err != nil {
			return err
		}
		all := specs
		if release != nil {
			all = append([]runner.Spec{*release}, specs...)
		}
		err = checkPorts(all, false, 0)
		if err == nil {
			fm.specs, fm.release = specs, release
			return nil
		}
		if first == nil {
			first = err
		}
	}
	a.Port = from
	return first
}

// bootSink shows the processes' output as start does and hands their
// events to the verdicts.
type bootSink struct {
	*logmux.Mux
	v *verdicts
}

func (b bootSink) Event(e runner.Event) error {
	b.v.event(e)
	return b.Mux.Event(e)
}

// verdicts decides, from the supervisor's events, whether each process
// booted: web (or a ready: check) when it reports ready, any other when it
// is still running after settle, a oneshot when it exits with 0. An exit or
// a failed start fails it.
type verdicts struct {
	settle    time.Duration
	afterFunc func(time.Duration, func()) *time.Timer // time.AfterFunc; tests fire by hand
	byName    map[string]runner.Spec
	order     []string

	mu      sync.Mutex // guards rows, started, closed
	rowsBy  map[string]*BootRow
	started map[string]time.Time
	done    chan struct{} // closed once every process is decided
	closed  bool
}

func newVerdicts(specs []runner.Spec, settle time.Duration, afterFunc func(time.Duration, func()) *time.Timer) *verdicts {
	v := &verdicts{settle: settle, afterFunc: afterFunc, byName: map[string]runner.Spec{}, rowsBy: map[string]*BootRow{}, started: map[string]time.Time{}, done: make(chan struct{})}
	for _, s := range specs {
		v.byName[s.Name] = s
		v.rowsBy[s.Name] = &BootRow{Name: s.Name}
		v.order = append(v.order, s.Name)
	}
	if len(specs) == 0 {
		v.closed = true
		close(v.done)
	}
	return v
}

func (v *verdicts) event(e runner.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	r, ok := v.rowsBy[e.Name]
	if !ok || r.decided {
		return
	}
	spec := v.byName[e.Name]
	switch e.Kind {
	case runner.Started:
		v.started[e.Name] = e.Time
		if spec.Ready.IsZero() && !spec.Oneshot {
			name, began := e.Name, e.Time
			v.afterFunc(v.settle, func() {
				v.mu.Lock()
				defer v.mu.Unlock()
				v.set(v.rowsBy[name], true, fmt.Sprintf("still running after %s", RoundSeconds(v.settle)), began.Add(v.settle))
			})
		}
	case runner.Ready:
		detail := "ready"
		if e.Port > 0 {
			detail = fmt.Sprintf("ready on :%d", e.Port)
		}
		v.set(r, true, detail, e.Time)
	case runner.Exited:
		what := logmux.DescribeExit(e.Code, e.Signal != 0, runner.SignalName(e.Signal))
		v.set(r, spec.Oneshot && e.Code == 0 && e.Signal == 0, what, e.Time)
	case runner.StartFailed:
		v.set(r, false, "failed to start: "+e.Err.Error(), e.Time)
	}
}

// set decides r; the caller holds mu.
func (v *verdicts) set(r *BootRow, pass bool, detail string, at time.Time) {
	if r.decided {
		return
	}
	r.decided, r.Pass, r.Detail = true, pass, detail
	if t, ok := v.started[r.Name]; ok {
		r.Took = at.Sub(t)
	}
	for _, other := range v.rowsBy {
		if !other.decided {
			return
		}
	}
	if !v.closed {
		v.closed = true
		close(v.done)
	}
}

// timeout fails every process not decided within limit.
func (v *verdicts) timeout(limit time.Duration, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, name := range v.order {
		v.set(v.rowsBy[name], false, fmt.Sprintf("not ready after %s", RoundSeconds(limit)), now)
	}
}

// finish fails what the end of the run left undecided.
func (v *verdicts) finish(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, name := range v.order {
		v.set(v.rowsBy[name], false, "stopped before it was up", now)
	}
}

func (v *verdicts) allDecided() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range v.rowsBy {
		if !r.decided {
			return false
		}
	}
	return true
}

// rows are the verdicts in formation order.
func (v *verdicts) rows() []BootRow {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]BootRow, 0, len(v.order))
	for _, name := range v.order {
		out = append(out, *v.rowsBy[name])
	}
	return out
}

// RoundSeconds shows d as "1.2s", or "32ms" below a second.
func RoundSeconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
