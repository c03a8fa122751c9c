package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/logmux"
)

func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "color", Usage: "colour the prefixes: `auto`, always or never (auto: when stdout is a terminal; NO_COLOR and FORCE_COLOR honoured)"},
		&cli.BoolFlag{Name: "no-color", Usage: "same as --color never"},
		&cli.BoolFlag{Name: "no-timestamp", Usage: "leave out the HH:MM:SS column"},
		&cli.BoolFlag{Name: "no-prefix", Usage: "leave out the process name column"},
	}
}

func startCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "run the app's processes with interleaved, prefixed output",
		ArgsUsage: "[TYPE[=N][,TYPE[=N]...] ...]",
		Description: `Runs every process type of the Procfile but release (or the types named), each
instance in its own process group with PORT, PS and DYNO set:
PORT = base + 100 × the type's position in the Procfile + (instance − 1).

The first process to exit stops the rest: SIGTERM to every group, SIGKILL after the
timeout. Ctrl-C (or SIGINT, SIGTERM, SIGHUP) does the same; a second Ctrl-C kills at once.
SIGUSR1 and SIGUSR2 are forwarded. ganger exits with the code of the process that caused
the shutdown (128+N for signal N), 130/143/129 when interrupted, 141 when its output closed.

Examples:
   ganger start                          # all types but release, one each
   ganger start web worker               # only these
   ganger start -m web=2,all=1 -p 5000   # two web, one of the rest, ports from 5000
   ganger start web=2,worker             # heroku local's positional formation
   ganger start -e .env,.env.local -t 10 # later env files win; 10 s grace
   ganger start --no-color | tee log     # colour is off in pipes anyway
   ganger start --slug                   # after ganger build: release phase, then the formation

With --slug the processes run from the slug of "ganger build" (.ganger/slug) as a dyno
runs them: cwd and HOME are the slug, .profile.d/*.sh and .profile are sourced first,
the config vars are the buildpacks' config_vars overlaid by the env files, and types the
slug's Procfile lacks come from the buildpacks' default_process_types. A release type
runs first, once, to completion (the release phase); a non-zero exit aborts the start
with its code. --no-release skips it; naming release (start --slug release, or -m
release=N) runs it with the formation instead.`,
		Flags: slices.Concat(appFlags(), formationFlags(), outputFlags(), ttyFlags(), portCheckFlags(), liveFlags(), slugFlags()),
		Action: func(c *cli.Context) error {
			p, err := loadProjectFor(c, st, "start")
			if err != nil {
				return err
			}
			return startApp(c.Context, p, c.Args().Slice(), st)
		},
	}
}

// colorEnabled decides about colour at the edge: flag, then NO_COLOR, then
// FORCE_COLOR, then whether stdout is a terminal.
func colorEnabled(set *settings, st *streams) (bool, error) {
	if off, err := set.bool("no-color"); err != nil {
		return false, err
	} else if off {
		return false, nil
	}
	mode := set.str("color", "auto")
	switch mode {
	case "always", "true", "on", "yes":
		return true, nil
	case "never", "false", "off", "no":
		return false, nil
	case "auto", "":
	default:
		return false, &usageError{err: fmt.Errorf("--color %q: want auto, always or never", mode)}
	}
	if st.getenv("NO_COLOR") != "" {
		return false, nil
	}
	if v := st.getenv("FORCE_COLOR"); v != "" && v != "0" && v != "false" {
		return true, nil
	}
	return st.outTTY && st.getenv("TERM") != "dumb", nil
}

// newMux builds the output renderer from the output flags.
func newMux(set *settings, st *streams, names []string) (*logmux.Mux, error) {
	colour, err := colorEnabled(set, st)
	if err != nil {
		return nil, err
	}
	noTS, err := set.bool("no-timestamp")
	if err != nil {
		return nil, err
	}
	noPrefix, err := set.bool("no-prefix")
	if err != nil {
		return nil, err
	}
	return logmux.New(st.out, logmux.Options{Color: colour, Timestamp: !noTS, Prefix: !noPrefix, Names: names}), nil
}

// signalCause is why a run was interrupted.
type signalCause struct{ sig syscall.Signal }

func (s signalCause) Error() string { return runner.SignalName(s.sig) + " received" }

// startApp runs the formation until it stops.
func startApp(ctx context.Context, p *project, args []string, st *streams) error {
	types, f, err := p.selection(args)
	if err != nil {
		return err
	}
	if p.slug != nil && len(types) == 0 && f == nil {
		f = p.slugFormation()
	}
	pl := &plan{types: types, formation: f, autoRestart: typeSet(p.set, "auto-restart"), canDie: typeSet(p.set, "can-die")}
	fm, err := p.prepare(pl, st)
	if err != nil {
		return err
	}
	cf, specs, release, mux := fm.cf, fm.specs, fm.release, fm.mux
	if pl.tty, err = ttyFor(p.set, st, mux); err != nil {
		return err
	}
	for i := range specs {
		specs[i].TTY = pl.tty
	}
	watching, err := p.set.bool("watch")
	if err != nil {
		return err
	}
	if watching && p.slug != nil {
		return &usageError{err: errors.New("--watch and --slug do not go together: --slug runs the built slug, --watch reloads the source"), hint: "run ganger build again after a change, or start without --slug"}
	}
	growOutputPipe(st.out)
	l := &live{st: st, mux: mux, plan: pl, proj: p, cf: cf}
	// The control socket is taken first: a second start of the same app is
	// told so, rather than that its ports are busy.
	srv, err := control.Listen(ctx, p.root, control.DefaultOptions(st.getenv))
	var already *control.AlreadyRunningError
	switch {
	case errors.As(err, &already):
		return &exitError{code: 1, err: fmt.Errorf("%w; hint: use \"ganger ps\", \"ganger restart\" or \"ganger stop\" to control it", err)}
	case err != nil:
		fmt.Fprintf(st.err, "ganger: warning: no control socket (%v): ganger ps, restart and stop will not reach this run\n", err)
	default:
		l.srv = srv
		defer srv.Close()
	}
	if err := checkPorts(p.set, specs); err != nil {
		return err
	}
	if release != nil {
		if len(specs) > 0 {
			release.TTY = specs[0].TTY
		}
		if err := runRelease(ctx, p, *release, mux); err != nil {
			return err
		}
	}
	if watching {
		if l.watcher, err = newWatcher(p, cf, st, mux); err != nil {
			return err
		}
		defer l.watcher.Close()
	}
	res, err := supervise(ctx, specs, runner.Options{Timeout: p.timeout, Sink: mux, KeepGoing: watching}, l.serve, l.watchLoop, watchReader(st.out))
	if err != nil {
		return err
	}
	return resultError(res)
}

// outputPipeSize is the capacity asked for ganger's stdout when it is a pipe
// (Linux's default is 64 KiB, and 1 MiB the most an unprivileged process may
// ask for by default). One write of ganger's then carries a whole read of a
// busy child without waiting for the reader to make room four times over.
const outputPipeSize = 1 << 20

// growOutputPipe asks for out's pipe, if it is one, to hold outputPipeSize
// bytes; terminals and files are left alone.
func growOutputPipe(out io.Writer) {
	if f, ok := out.(*os.File); ok {
		runner.GrowPipe(f, outputPipeSize)
	}
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
func (p *project) prepare(pl *plan, st *streams) (*formation, error) {
	cf, err := p.loadConfig()
	if err != nil {
		return nil, err
	}
	specs, err := pl.specs(p, cf)
	if err != nil {
		return nil, err
	}
	release, err := p.releasePhase(pl.types, pl.formation)
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
	mux, err := newMux(p.set, st, names)
	if err != nil {
		return nil, err
	}
	return &formation{cf: cf, specs: specs, release: release, mux: mux}, nil
}

// spec is the runner's description of one instance; base is p.env
// rendered, shared by every instance of a formation.
func (p *project) spec(in procfile.Instance, base *env.Rendered) (runner.Spec, error) {
	environ, err := base.Environ(p.instanceVars(in.Name, in.Port)...)
	if err != nil {
		return runner.Spec{}, fmt.Errorf("%s: %w", in.Name, err)
	}
	argv, dir := p.command(in.Command)
	return runner.Spec{Name: in.Name, Type: in.Type, Port: in.Port, Argv: argv, Dir: dir, Env: environ}, nil
}

// supervise runs specs with ganger's signal handling: the first SIGINT,
// SIGTERM or SIGHUP starts the shutdown, the second kills at once, SIGUSR1
// and SIGUSR2 are forwarded, and a closed stdout (SIGPIPE) turns into a write
// error the supervisor acts on instead of killing ganger.
//
// Each of beside runs in its own goroutine while the formation runs, with
// a context that ends when it has stopped; supervise returns once they
// have returned.
func supervise(ctx context.Context, specs []runner.Spec, opts runner.Options, beside ...func(context.Context, *runner.Supervisor)) (runner.Result, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	defer signal.Stop(sigs)

	wd, err := runner.StartWatchdog()
	if err != nil {
		return runner.Result{}, err
	}
	defer wd.Close()
	opts.Watchdog = wd
	opts.Reap = true

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sup := runner.New(opts)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		interrupted := false
		for {
			select {
			case <-stop:
				return
			case sig := <-sigs:
				switch s := sig.(syscall.Signal); s {
				case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP:
					if interrupted {
						sup.Kill()
					} else {
						interrupted = true
						cancel(signalCause{s})
					}
				case syscall.SIGUSR1, syscall.SIGUSR2:
					sup.Signal(s)
				}
			}
		}
	}()
	besideCtx, stopBeside := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, f := range beside {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(besideCtx, sup)
		}()
	}
	res, err := sup.Run(ctx, specs)
	stopBeside()
	wg.Wait()
	if res.Interrupted {
		var sc signalCause
		if errors.As(context.Cause(ctx), &sc) {
			res.Code = 128 + int(sc.sig)
		}
	}
	return res, err
}

// resultError maps a run's end to ganger's exit code.
func resultError(res runner.Result) error {
	switch {
	case res.OutputClosed:
		return &exitError{code: 128 + int(syscall.SIGPIPE)}
	case res.Interrupted, res.Cause != "":
		if res.Code == 0 {
			return nil
		}
		return &exitError{code: res.Code}
	}
	return nil
}
