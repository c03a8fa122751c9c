package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/logmux"
)

// bootFlags are check's flags for the pre-push check.
func bootFlags() []cli.Flag {
	return slices.Concat([]cli.Flag{
		&cli.BoolFlag{Name: "boot", Usage: "build the app, run the release phase, start every process from the slug, wait until each is up, stop them: the pre-push check"},
		&cli.BoolFlag{Name: "slug", Usage: "with --boot: use the slug as it is instead of building"},
		&cli.StringFlag{Name: "settle", Usage: "with --boot: how long a process without a readiness check must keep running to pass (`TIME`, default 3s)"},
		&cli.StringFlag{Name: "boot-timeout", Usage: "with --boot: how long a process may take to be ready (`TIME`, default 60s)"},
	}, formationFlags(), outputFlags(), buildpackFlags())
}

// bootRow is one line of the boot check's table.
type bootRow struct {
	name    string
	pass    bool
	decided bool
	took    time.Duration
	detail  string
}

// bootCheck is "ganger check --boot".
func bootCheck(c *cli.Context, st *streams) error {
	set, err := loadSettings(c, st)
	if err != nil {
		return err
	}
	settle, err := durationSetting(set, "settle", 3*time.Second)
	if err != nil {
		return err
	}
	limit, err := durationSetting(set, "boot-timeout", time.Minute)
	if err != nil {
		return err
	}
	useSlug, err := set.bool("slug")
	if err != nil {
		return err
	}
	var rows []*bootRow
	report := func() {
		tw := tabwriter.NewWriter(st.out, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tRESULT\tTIME\tDETAIL")
		failed := 0
		for _, r := range rows {
			res := "pass"
			if !r.pass {
				res = "FAIL"
				failed++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, res, roundSeconds(r.took), r.detail)
		}
		tw.Flush()
		if failed == 0 {
			fmt.Fprintf(st.out, "boot check passed: %d of %d\n", len(rows), len(rows))
		} else {
			fmt.Fprintf(st.out, "boot check failed: %d of %d failed\n", failed, len(rows))
		}
	}
	if !useSlug {
		p, opts, err := buildOptions(c, st, "check --boot")
		if err != nil {
			return err
		}
		ctx, stop := interruptible(c.Context)
		began := time.Now()
		_, err = buildpack.Build(ctx, opts)
		if code := stop(); code != 0 {
			return &exitError{code: code, err: errors.New("check --boot interrupted")}
		}
		row := &bootRow{name: "build", pass: err == nil, took: time.Since(began), detail: "slug in " + relPath(filepath.Join(p.root, buildpack.SlugDir))}
		rows = append(rows, row)
		if err != nil {
			row.detail = err.Error()
			report()
			return &exitError{code: 1, err: buildFailure("check --boot", p, err)}
		}
	}
	p, err := loadProjectOpt(c, st, true)
	if err != nil {
		return err
	}
	if err := p.useSlug("check --boot"); err != nil {
		return err
	}
	types, f, err := p.selection(nil)
	if err != nil {
		return err
	}
	if f == nil {
		f = p.slugFormation()
	}
	pl := &plan{types: types, formation: f}
	fm, err := p.prepare(pl, st)
	if err != nil {
		return err
	}
	specs, release, mux := fm.specs, fm.release, fm.mux
	if err := checkPorts(p.set, specs); err != nil {
		return err
	}
	if release != nil {
		began := time.Now()
		err := runRelease(c.Context, p, *release, mux)
		row := &bootRow{name: release.Name, pass: err == nil, took: time.Since(began), detail: "exited with code 0"}
		rows = append(rows, row)
		if err != nil {
			var ee *exitError
			if errors.As(err, &ee) && ee.err == nil {
				return err // interrupted
			}
			row.detail = err.Error()
			report()
			return &exitError{code: 1}
		}
	}

	b := &bootSink{Mux: mux, settle: settle, rows: map[string]*bootRow{}, byName: map[string]runner.Spec{}, done: make(chan struct{})}
	for _, s := range specs {
		r := &bootRow{name: s.Name}
		b.rows[s.Name] = r
		b.byName[s.Name] = s
		rows = append(rows, r)
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	watchdog := func(ctx context.Context, _ *runner.Supervisor) {
		t := time.NewTimer(limit)
		defer t.Stop()
		select {
		case <-b.done:
		case <-t.C:
			b.timeout(limit)
		case <-ctx.Done():
			return
		}
		cancel()
	}
	res, err := supervise(ctx, specs, runner.Options{Timeout: p.timeout, Sink: b, KeepGoing: true}, watchdog)
	if err != nil {
		return err
	}
	b.finish()
	if res.Interrupted && !b.allDecided() || res.OutputClosed {
		return resultError(res)
	}
	report()
	for _, r := range rows {
		if !r.pass {
			return &exitError{code: 1}
		}
	}
	return nil
}

// bootSink shows the processes' output as start does and decides, from
// their events, whether each one booted.
type bootSink struct {
	*logmux.Mux
	settle time.Duration
	byName map[string]runner.Spec

	mu      sync.Mutex // guards rows, started, closed
	rows    map[string]*bootRow
	started map[string]time.Time
	done    chan struct{} // closed once every process is decided
	closed  bool
}

func (b *bootSink) Event(e runner.Event) error {
	b.decide(e)
	return b.Mux.Event(e)
}

func (b *bootSink) decide(e runner.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rows[e.Name]
	if !ok || r.decided {
		return
	}
	spec := b.byName[e.Name]
	if b.started == nil {
		b.started = map[string]time.Time{}
	}
	switch e.Kind {
	case runner.Started:
		b.started[e.Name] = e.Time
		if spec.Ready.IsZero() && !spec.Oneshot {
			name := e.Name
			time.AfterFunc(b.settle, func() {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.set(b.rows[name], true, fmt.Sprintf("still running after %s", roundSeconds(b.settle)), time.Now())
			})
		}
	case runner.Ready:
		detail := "ready"
		if e.Port > 0 {
			detail = fmt.Sprintf("ready on :%d", e.Port)
		}
		b.set(r, true, detail, e.Time)
	case runner.Exited:
		what := logmux.DescribeExit(e.Code, e.Signal != 0, runner.SignalName(e.Signal))
		b.set(r, spec.Oneshot && e.Code == 0 && e.Signal == 0, what, e.Time)
	case runner.StartFailed:
		b.set(r, false, "failed to start: "+e.Err.Error(), e.Time)
	}
}

// set decides r; the caller holds mu.
func (b *bootSink) set(r *bootRow, pass bool, detail string, at time.Time) {
	if r.decided {
		return
	}
	r.decided, r.pass, r.detail = true, pass, detail
	if t, ok := b.started[r.name]; ok {
		r.took = at.Sub(t)
	}
	for _, other := range b.rows {
		if !other.decided {
			return
		}
	}
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}

// timeout fails every process not decided within limit.
func (b *bootSink) timeout(limit time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.rows {
		b.set(r, false, fmt.Sprintf("not ready after %s", roundSeconds(limit)), time.Now())
	}
}

// finish fails what the end of the run left undecided.
func (b *bootSink) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.rows {
		b.set(r, false, "stopped before it was up", time.Now())
	}
}

func (b *bootSink) allDecided() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.rows {
		if !r.decided {
			return false
		}
	}
	return true
}

// durationSetting reads a duration option, def when unset.
func durationSetting(set *settings, name string, def time.Duration) (time.Duration, error) {
	v, ok := set.lookup(name)
	if !ok {
		return def, nil
	}
	d, err := parseDuration(v)
	if err != nil {
		return 0, &usageError{err: fmt.Errorf("--%s %q: want a duration such as 3s or 500ms", name, v)}
	}
	return d, nil
}

// roundSeconds shows d as "1.2s", or "32ms" below a second.
func roundSeconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
