package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/runner"
)

func runCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a one-off command in the app's environment",
		ArgsUsage: "[--] COMMAND [ARGS...] | TYPE",
		Description: `Runs a command with the environment the processes get (env files, PORT, PS and DYNO
set to run.1), in the app root, with ganger's terminal: stdin, stdout and stderr are
inherited, so an interactive shell or a debugger works. Ctrl-C goes to the command;
ganger exits with the command's exit code (128+N if it died of signal N).

One argument that names a Procfile entry runs that entry's command (with its PORT);
any other single argument runs through sh -c; several arguments run as given.

Examples:
   ganger run rails console
   ganger run 'echo $PORT $DATABASE_URL'
   ganger run -e .env.test -- rspec --fail-fast
   ganger run web                        # the Procfile's web command, in the foreground
   ganger run --slug bash                # a shell in the slug of ganger build, profile sourced

With --slug the command runs from the slug of "ganger build" as a one-off dyno does: cwd and
HOME are .ganger/slug, .profile.d/*.sh and .profile are sourced first, and the config vars are
the buildpacks' config_vars overlaid by the env files. A Procfile name is looked up in the
slug's Procfile and the buildpacks' default process types.`,
		Flags: append(appFlags(), slugFlags()[0]),
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) == 0 {
				return &app.UsageError{Err: errors.New("run: name a command"), Hint: "example: ganger run rails console"}
			}
			slug, need, err := slugNeed(c, st, app.NeedApp)
			if err != nil {
				return err
			}
			_, o, err := loadOptions(c, st, need)
			if err != nil {
				return err
			}
			o.Slug = slug
			o.ProcfileOptional, o.Command = true, "run --slug"
			a, err := app.Load(o)
			if err != nil {
				return err
			}
			if a.ProcfileErr != nil {
				fmt.Fprintf(st.err, "ganger: warning: %v\nganger: the one-off runs without the Procfile\n", a.ProcfileErr)
			}
			if a.Slug != nil {
				release, err := a.Slug.Hold() // a build meanwhile keeps it
				if err != nil {
					return err
				}
				defer release()
			}
			one, err := a.OneOff(args)
			if err != nil {
				return err
			}
			one.Stdin, one.Stdout, one.Stderr = st.in, st.out, st.err
			return runOneOff(c, one)
		},
	}
}

// runOneOff runs o in the foreground. The terminal's SIGINT and SIGQUIT reach
// the command directly, so ganger only keeps them from killing itself; SIGTERM
// and SIGHUP sent to ganger are passed on.
func runOneOff(c *cli.Context, o runner.OneOff) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	forward := make(chan syscall.Signal, 4)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case s := <-sigs:
				if s == syscall.SIGTERM || s == syscall.SIGHUP {
					forward <- s.(syscall.Signal)
				}
			}
		}
	}()
	code, err := runner.RunOne(c.Context, o, forward)
	if err != nil {
		return &app.ExitError{Code: code, Err: err}
	}
	if code != 0 {
		return &app.ExitError{Code: code}
	}
	return nil
}
