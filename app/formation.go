package app

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner"
)

// oneOffName is the DYNO and PS of a one-off, as the platform names run
// dynos.
const oneOffName = "run.1"

// Selection is what a command was asked to run: the types named (all but
// release when none) and how many of each.
type Selection struct {
	Types     []string
	Formation procfile.Formation // nil: one each
}

// Select reads heroku local's positional "web=2,worker" and foreman's
// "start web" in args into the types named and their counts, merged over
// the -m formation f.
func Select(f procfile.Formation, args []string) (Selection, error) {
	sel := Selection{Formation: f}
	if f != nil {
		sel.Formation = maps.Clone(f)
	}
	for _, a := range args {
		pos, err := procfile.ParseFormation(a)
		if err != nil {
			return Selection{}, &UsageError{Err: err, Hint: "name process types, optionally with counts: ganger start web=2,worker"}
		}
		for item := range strings.SplitSeq(a, ",") {
			name, _, hasCount := strings.Cut(strings.TrimSpace(item), "=")
			if name == "" {
				continue
			}
			sel.Types = append(sel.Types, name)
			if hasCount {
				if sel.Formation == nil {
					sel.Formation = procfile.Formation{}
				}
				sel.Formation[name] = pos[name]
			}
		}
	}
	return sel, nil
}

// explicit reports whether the selection names anything: types or counts.
func (s Selection) explicit() bool { return len(s.Types) > 0 || s.Formation != nil }

// Policies are the restart policies given on the command line: types (or
// "all") restarted whenever they exit, and types whose exit leaves the rest
// running.
type Policies struct {
	AutoRestart []string
	CanDie      []string
}

// plan is what a start or a boot check runs, turned into the formation's
// specs again after every change to the app's files.
type plan struct {
	sel         Selection
	autoRestart map[string]bool // types, or "all"
	canDie      map[string]bool
	tty         *runner.TTY
	router      bool // the router takes the base port; web gets preboot (see Routing)
}

func newPlan(sel Selection, pol Policies) *plan {
	set := func(names []string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	return &plan{sel: sel, autoRestart: set(pol.AutoRestart), canDie: set(pol.CanDie)}
}

// specs builds one Spec per instance the plan selects.
func (pl *plan) specs(a *App, cf *config.File) ([]runner.Spec, error) {
	sel := pl.sel
	fromDefaults := a.Slug != nil && !sel.explicit()
	if fromDefaults {
		sel.Formation = slugFormation(a.Procfile.Entries, a.slugDefaults)
	}
	base := a.Port
	if pl.router {
		base++ // the router listens on a.Port
	}
	insts, err := procfile.Instances(a.Procfile, sel.Types, sel.Formation, base)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	if len(insts) == 0 && fromDefaults && len(a.slugDefaults) > 0 {
		return nil, &UsageError{
			Err:  fmt.Errorf("nothing to start: the slug has no Procfile types but release, and its buildpacks' default process types (%s) include no web, the only one the platform starts on a first deploy", strings.Join(a.slugDefaults, ", ")),
			Hint: fmt.Sprintf("name the types to start, such as ganger start --slug %s, or start them all with -m all=1", a.slugDefaults[0]),
		}
	}
	if len(insts) == 0 {
		return nil, &UsageError{Err: errors.New("nothing to start: every process type is scaled to 0"), Hint: "use -m to choose counts, such as -m all=1"}
	}
	for _, t := range []map[string]bool{pl.autoRestart, pl.canDie} {
		for name := range t {
			if _, _, ok := a.Procfile.Lookup(name); !ok && name != "all" {
				return nil, &UsageError{Err: fmt.Errorf("unknown process type %q (Procfile has: %s)", name, strings.Join(a.Procfile.Names(), ", "))}
			}
		}
	}
	specs := make([]runner.Spec, 0, len(insts))
	rendered := a.Env.Render()
	for _, in := range insts {
		s, err := a.spec(in, rendered)
		if err != nil {
			return nil, err
		}
		s.TTY = pl.tty
		if err := applyConfig(&s, cf.For(in.Type)); err != nil {
			return nil, err
		}
		if cf.For(in.Type).TTY { // a terminal that takes input, for ganger attach
			t := runner.TTY{Cols: defaultCols, Rows: defaultRows}
			if pl.tty != nil {
				t = *pl.tty
			}
			t.Input = true
			s.TTY = &t
		}
		if pl.autoRestart[in.Type] || pl.autoRestart["all"] {
			s.Restart = runner.RestartAlways
		}
		if pl.canDie[in.Type] || pl.canDie["all"] {
			s.CanDie = true
		}
		specs = append(specs, s)
	}
	if pl.router {
		if err := prebootWeb(specs, insts); err != nil {
			return nil, err
		}
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

// spec is the runner's description of one instance; base is a.Env
// rendered, shared by every instance of a formation.
func (a *App) spec(in procfile.Instance, base *env.Rendered) (runner.Spec, error) {
	environ, err := base.Environ(a.instanceVars(in.Name, in.Port)...)
	if err != nil {
		return runner.Spec{}, fmt.Errorf("%s: %w", in.Name, err)
	}
	argv, dir := a.command(in.Command)
	return runner.Spec{Name: in.Name, Type: in.Type, Port: in.Port, Argv: argv, Dir: dir, Env: environ}, nil
}

// InstanceEnv is the environment of one instance: the app's, plus what
// ganger sets for it.
func (a *App) InstanceEnv(name string, port int) (*env.Env, error) {
	e := a.Env.Clone()
	for _, v := range a.instanceVars(name, port) {
		e.Set(v.Key, v.Value, v.Source)
	}
	if err := e.CheckExec(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return e, nil
}

// instanceVars are what ganger sets for one instance: PORT, PS and DYNO, and
// HOME (the slug) when running from one.
func (a *App) instanceVars(name string, port int) []env.Var {
	vars := []env.Var{
		{Key: "PORT", Value: strconv.Itoa(port), Source: env.SourceGanger},
		{Key: "PS", Value: name, Source: env.SourceGanger},
		{Key: "DYNO", Value: name, Source: env.SourceGanger},
	}
	if a.Slug != nil {
		vars = append(vars, env.Var{Key: "HOME", Value: a.Slug.Dir, Source: env.SourceGanger})
	}
	return vars
}

// Instance resolves "web" or "web.2" to its name and PORT.
func (a *App) Instance(arg string) (name string, port int, err error) {
	typ, num := arg, 1
	if i := strings.LastIndexByte(arg, '.'); i > 0 {
		n, err := strconv.Atoi(arg[i+1:])
		if err != nil || n < 1 {
			return "", 0, &UsageError{Err: fmt.Errorf("%q is not TYPE or TYPE.N", arg)}
		}
		typ, num = arg[:i], n
	}
	_, idx, ok := a.Procfile.Lookup(typ)
	if !ok {
		return "", 0, &UsageError{Err: fmt.Errorf("unknown process type %q (%s has: %s)", typ, a.ProcfilePath, strings.Join(a.Procfile.Names(), ", "))}
	}
	return fmt.Sprintf("%s.%d", typ, num), procfile.Port(a.Port, idx, num), nil
}
