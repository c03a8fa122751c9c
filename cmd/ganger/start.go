package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
)

func startCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "run the app's processes with interleaved, prefixed output",
		ArgsUsage: "[TYPE[=N][,TYPE[=N]...] ...]",
		Description: `Runs every process type of the Procfile but release (or the types named), each
instance in its own process group with PORT, PS and DYNO set:
PORT = base + 100 × the type's position in the Procfile + (instance − 1).

The first process to exit stops the rest: SIGTERM to every group, SIGKILL after the
timeout. Ctrl-C (or SIGINT, SIGTERM, SIGHUP) does the same; a second Ctrl-C kills at once
(one within 300 ms of the first counts as the same).
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
release=N) runs it with the formation instead.

Crash alerts: ganger.yml's "on_crash: COMMAND" runs (sh -c, in the app root, with the
app's environment) whenever a process exits without ganger asking it to (any exit but a
oneshot's 0) and when a restart policy gives up, with GANGER_PROCESS (worker.1),
GANGER_EXIT_CODE (128+N for signal N), GANGER_EVENT (exited or gave-up) and GANGER_LOG
(a file of that process's last lines). A failing hook is reported, never fatal.
--notify (or "notify: true") also sends a desktop notification through notify-send or
osascript.

The router (--router, or "router: true"): ganger listens on the base port, on the
loopback addresses, and sends each request to the next web instance that is ready
(round robin), adding X-Request-Id, X-Forwarded-For/-Proto/-Port, X-Request-Start and
Via, and logging one line per request under "router" in the platform's form. The
processes are laid out from the next port up: web.1 on base+1, web.2 on base+2,
worker.1 on base+101. A restart of web (--watch, ganger restart web, a config change)
is a preboot: the new web.N starts beside the old one on base+N+50, traffic switches
once it answers, then the old one is stopped with the grace period; a new one that
exits or is not up within 60 s is stopped and the old one keeps serving. When no web
instance can answer, the router answers 503 with the platform's code (H10 crashed,
H12 timeout, H13 closed without response, H14 none running, H20 boot timeout).`,
		Flags: slices.Concat(appFlags(), formationFlags(), outputFlags(), ttyFlags(), liveFlags(), routerFlags(), slugFlags()),
		Action: func(c *cli.Context) error {
			return start(c, st)
		},
	}
}

// liveFlags are start's flags for the development loop: reloading on
// changes and restart policies from the command line.
func liveFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "no-port-check", Usage: "start even when a PORT handed out is in use (every instance gets one, even those that never listen)"},
		&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "restart processes when files under the app root change (.gitignore honoured)"},
		&cli.StringSliceFlag{Name: "watch-ignore", Usage: "more `GLOB`s to ignore, in gitignore syntax; repeatable"},
		&cli.StringFlag{Name: "debounce", Usage: "quiet `TIME` that ends a burst of changes (default 200ms)"},
		&cli.StringFlag{Name: "auto-restart", Aliases: []string{"r"}, Usage: "restart these `TYPES` (comma-separated, or all) whenever they exit, with backoff (overmind's -r)"},
		&cli.StringFlag{Name: "can-die", Usage: "`TYPES` (comma-separated, or all) whose exit leaves the rest running (overmind's --can-die)"},
		&cli.BoolFlag{Name: "daemon", Aliases: []string{"D"}, Usage: "detach: return once every process is up (web ready), leaving the start running in the background with its output in .ganger/start.log (overmind's -D); ganger ps, logs, attach and quit reach it"},
		&cli.BoolFlag{Name: "notify", Usage: "a desktop notification (notify-send or osascript) when a process crashes; also ganger.yml's notify: true"},
	}
}

// routerFlags put the platform's router in front of web.
func routerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "router", Usage: "the platform's router on the base port in front of every web instance (round robin, preboot on restart, a log line per request); the processes get the ports from the next one up; also ganger.yml's router: true"},
		&cli.StringFlag{Name: "router-timeout", Usage: "with --router: a request with no response within `TIME` gets 503, code H12 (default 30s, as the platform)"},
	}
}

// slugFlags run start and run from the slug.
func slugFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "slug", Usage: "run from the slug of ganger build (.ganger/slug) as a dyno does: cwd and HOME the slug, its profile sourced"},
		&cli.BoolFlag{Name: "no-release", Usage: "with --slug: skip the release phase (the release type run once before the formation)"},
	}
}

func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "color", Usage: "colour the prefixes: auto, always or never (auto, the default: when stdout is a terminal; NO_COLOR and FORCE_COLOR honoured)"},
		&cli.BoolFlag{Name: "no-color", Usage: "same as --color never"},
		&cli.BoolFlag{Name: "no-timestamp", Usage: "leave out the HH:MM:SS column"},
		&cli.BoolFlag{Name: "no-prefix", Usage: "leave out the process name column"},
	}
}

// start is "ganger start": options resolved here, the run in package app.
func start(c *cli.Context, st *streams) error {
	slug, need, err := slugNeed(c, st, app.NeedProcfile)
	if err != nil {
		return err
	}
	set, o, err := loadOptions(c, st, need)
	if err != nil {
		return err
	}
	o.Slug = slug
	o.Command = "start --slug"
	a, err := app.Load(o)
	if err != nil {
		return err
	}
	so := app.StartOptions{Control: ptr(control.DefaultOptions(st.getenv)), Warn: st.err}
	if so.Selection, err = app.Select(o.Formation, c.Args().Slice()); err != nil {
		return err
	}
	so.Policies = app.Policies{AutoRestart: set.list("auto-restart"), CanDie: set.list("can-die")}
	if so.Output, err = outputOptions(set, st); err != nil {
		return err
	}
	if so.TTY, err = ttyFor(set, st); err != nil {
		return err
	}
	if so.NoPortCheck, err = set.bool("no-port-check"); err != nil {
		return err
	}
	if so.NoRelease, err = set.bool("no-release"); err != nil {
		return err
	}
	if _, ok := set.lookup("notify"); ok {
		notify, err := set.bool("notify")
		if err != nil {
			return err
		}
		so.Alerts.Notify = &notify
	}
	if _, ok := set.lookup("router"); ok {
		on, err := set.bool("router")
		if err != nil {
			return err
		}
		so.Routing.On = &on
	}
	if so.Routing.Timeout, err = set.duration("router-timeout", 0, true); err != nil {
		return err
	}
	if watching, err := set.bool("watch"); err != nil {
		return err
	} else if watching {
		debounce, err := set.duration("debounce", 0, true)
		if err != nil {
			return err
		}
		so.Watch = &app.WatchOptions{Debounce: debounce, Ignore: set.list("watch-ignore"), Leave: app.OutputFiles(st.out, st.err)}
		so.Watch.Reread = func() (app.Options, app.Selection, error) {
			// .foreman changed: resolve the app's options again.
			_, o, err := loadOptions(c, st, need)
			if err != nil {
				return o, app.Selection{}, err
			}
			o.Command = "start --slug"
			sel, err := app.Select(o.Formation, c.Args().Slice())
			return o, sel, err
		}
	}
	if d := st.detached; d != nil {
		logf, err := d.setUp(st, a, &so)
		if err != nil {
			return err
		}
		defer logf.Close()
	} else if daemon, err := detachAsked(set, a); err != nil {
		return err
	} else if daemon {
		return detach(st, a, so.TTY)
	}
	growOutputPipe(st.out)
	ctx, sig, stop := formationSignals(c.Context)
	defer stop()
	so.Signals = sig
	return a.Start(ctx, so)
}

func ptr[T any](v T) *T { return &v }

// outputOptions reads the output flags, deciding about colour at the edge.
func outputOptions(set *settings, st *streams) (app.Output, error) {
	out := app.Output{Out: st.out}
	var err error
	if out.Color, err = colorEnabled(set, st); err != nil {
		return out, err
	}
	noTS, err := set.bool("no-timestamp")
	if err != nil {
		return out, err
	}
	noPrefix, err := set.bool("no-prefix")
	if err != nil {
		return out, err
	}
	out.Timestamp, out.Prefix = !noTS, !noPrefix
	return out, nil
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
		return false, &app.UsageError{Err: fmt.Errorf("--color %q: want auto, always or never", mode)}
	}
	if st.getenv("NO_COLOR") != "" {
		return false, nil
	}
	if v := st.getenv("FORCE_COLOR"); v != "" && v != "0" && v != "false" {
		return true, nil
	}
	return st.outTTY && st.getenv("TERM") != "dumb", nil
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

// killAfter is how long after the first interrupt a second one kills at
// once. Sooner, it is the same interrupt delivered twice: timeout(1), some
// IDEs and npm scripts send SIGINT to the process and to its group within
// microseconds, and ganger must not take that for a second Ctrl-C.
const killAfter = 300 * time.Millisecond

// formationSignals is ganger's signal handling while a formation runs: the
// first SIGINT, SIGTERM or SIGHUP cancels ctx with an app.Interrupt (the
// graceful stop), one more at least killAfter later kills at once, SIGUSR1
// and SIGUSR2 are forwarded, and a closed stdout (SIGPIPE) turns into a
// write error the supervisor acts on instead of killing ganger. stop
// releases the signals.
func formationSignals(parent context.Context) (context.Context, app.Signals, func()) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	ctx, sig, stop := handleSignals(parent, sigs, time.Now)
	return ctx, sig, func() {
		signal.Stop(sigs)
		stop()
	}
}

// handleSignals acts on the signals arriving on sigs, with now as the
// clock; see formationSignals.
func handleSignals(parent context.Context, sigs <-chan os.Signal, now func() time.Time) (context.Context, app.Signals, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	kill := make(chan struct{})
	forward := make(chan syscall.Signal, 8)
	done := make(chan struct{})
	go func() {
		var first time.Time
		killed := false
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				switch s := sig.(syscall.Signal); s {
				case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP:
					switch {
					case first.IsZero():
						first = now()
						cancel(app.Interrupt{Signal: s})
					case !killed && now().Sub(first) >= killAfter:
						killed = true
						close(kill)
					}
				case syscall.SIGUSR1, syscall.SIGUSR2:
					select {
					case forward <- s:
					default: // nobody is running to take it
					}
				}
			}
		}
	}()
	stop := func() {
		close(done)
		cancel(nil)
	}
	return ctx, app.Signals{Kill: kill, Forward: forward}, stop
}

// detachAsked says whether start detaches: -D, GANGER_DAEMON or .foreman,
// else ganger.yml's daemon: (needsKeeper decides the same way).
func detachAsked(set *settings, a *app.App) (bool, error) {
	if _, ok := set.lookup("daemon"); ok {
		return set.bool("daemon")
	}
	cf, err := a.Config()
	if err != nil {
		return false, err
	}
	return cf.Daemon, nil
}
