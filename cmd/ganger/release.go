package main

import (
	"context"
	"fmt"
	"strings"

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
// nil: only from a slug whose Procfile has release, without --no-release,
// and when release is not selected explicitly (named, or counted in -m),
// in which case it runs with the formation as it does without --slug.
func (p *project) releasePhase(types []string, f procfile.Formation) (*runner.Spec, error) {
	if p.slug == nil {
		return nil, nil
	}
	if skip, err := p.set.bool("no-release"); err != nil || skip {
		return nil, err
	}
	if _, _, ok := p.pf.Lookup(procfile.Release); !ok {
		return nil, nil
	}
	if _, counted := f[procfile.Release]; counted {
		return nil, nil
	}
	for _, t := range types {
		if t == procfile.Release {
			return nil, nil
		}
	}
	insts, err := procfile.Instances(p.pf, []string{procfile.Release}, procfile.Formation{procfile.Release: 1}, p.port)
	if err != nil {
		return nil, &usageError{err: err}
	}
	spec, err := p.spec(insts[0], p.env.Render())
	if err != nil {
		return nil, err
	}
	return &spec, nil
}

// runRelease runs the release phase and returns an error carrying its exit
// code when it did not succeed.
func runRelease(ctx context.Context, p *project, spec runner.Spec, mux *logmux.Mux) error {
	res, err := supervise(ctx, []runner.Spec{spec}, runner.Options{Timeout: p.timeout, Sink: releaseSink{Mux: mux, name: spec.Name}})
	if err != nil {
		return fmt.Errorf("release phase: %w", err)
	}
	if res.Interrupted || res.OutputClosed {
		return resultError(res)
	}
	if res.Code != 0 {
		mux.Line(logmux.SystemName, fmt.Sprintf("%s exited with code %d: the release phase failed, nothing else is started", spec.Name, res.Code))
		return &exitError{code: res.Code, err: fmt.Errorf("release phase failed: %s exited with code %d; hint: fix it and run ganger build again, or skip it with --no-release", spec.Name, res.Code)}
	}
	return mux.Line(logmux.SystemName, fmt.Sprintf("%s exited with code 0: release phase done, starting the formation", spec.Name))
}

// releaseSink is the start's output with one change: the supervisor's
// "release.1 exited ..., stopping all processes" is left out, as the
// release's end starts the formation rather than stopping it; runRelease
// says what happens instead. Should the supervisor word it otherwise, the
// line shows: nothing is hidden but that one.
type releaseSink struct {
	*logmux.Mux
	name string
}

func (s releaseSink) Event(e runner.Event) error {
	if e.Kind == runner.System && strings.HasPrefix(e.Msg, s.name+" ") && strings.HasSuffix(e.Msg, "stopping all processes") {
		return nil
	}
	return s.Mux.Event(e)
}
