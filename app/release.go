package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/logmux"
)

// The release phase of "ganger start --slug": the slug's release type runs
// once, to completion, before the formation starts, as the platform runs it
// after a build; a non-zero exit aborts the start with its code. It runs
// under the supervisor as a one-process formation, so its output, Ctrl-C,
// the grace period and the clean-up are those of start.

// releasePhase returns the release instance to run before the formation, or
// nil: only from a slug whose Procfile has release, unless skipped, and when
// release is not selected explicitly (named, or counted in -m), in which
// case it runs with the formation as it does without --slug.
func (a *App) releasePhase(sel Selection, skip bool) (*runner.Spec, error) {
	if a.Slug == nil || skip {
		return nil, nil
	}
	if _, _, ok := a.Procfile.Lookup(procfile.Release); !ok {
		return nil, nil
	}
	if _, counted := sel.Formation[procfile.Release]; counted || slices.Contains(sel.Types, procfile.Release) {
		return nil, nil
	}
	insts, err := procfile.Instances(a.Procfile, []string{procfile.Release}, procfile.Formation{procfile.Release: 1}, a.Port)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	spec, err := a.spec(insts[0], a.Env.Render())
	if err != nil {
		return nil, err
	}
	return &spec, nil
}

// runRelease runs the release phase and returns an error carrying its exit
// code when it did not succeed.
func (a *App) runRelease(ctx context.Context, spec runner.Spec, mux *logmux.Mux, sig Signals) error {
	res, err := supervise(ctx, []runner.Spec{spec}, runner.Options{Timeout: a.Timeout(), Sink: releaseSink{mux}}, sig)
	if err != nil {
		return fmt.Errorf("release phase: %w", err)
	}
	if res.Interrupted || res.OutputClosed {
		return resultError(res)
	}
	if res.Code != 0 {
		mux.Line(logmux.SystemName, fmt.Sprintf("%s exited with code %d: the release phase failed, nothing else is started", spec.Name, res.Code))
		return &ExitError{Code: res.Code, Err: fmt.Errorf("release phase failed: %s exited with code %d; hint: fix it and run ganger build again, or skip it with --no-release", spec.Name, res.Code)}
	}
	return mux.Line(logmux.SystemName, fmt.Sprintf("%s exited with code 0: release phase done, starting the formation", spec.Name))
}

// releaseSink is the start's output with one change: the supervisor's
// announcement that a process's exit stops the formation is left out, as
// the release's end starts the formation rather than stopping it;
// runRelease says what happens instead.
type releaseSink struct{ *logmux.Mux }

func (s releaseSink) Event(e runner.Event) error {
	if e.Kind == runner.System && e.StoppedBy != "" {
		return nil
	}
	return s.Mux.Event(e)
}
