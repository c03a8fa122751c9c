package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// newApp builds the command tree. Nothing in it exits the process.
func newApp(st *streams) *cli.App {
	app := &cli.App{
		Name:  "ganger",
		Usage: "run Procfile apps locally the way the platform runs them",
		Description: `ganger runs every process of a Procfile app with interleaved, prefixed logs, a PORT
per process, and no process left behind. Flags also come from GANGER_<FLAG> environment
variables and from a .foreman file at the app root; the command line wins.

Examples:
   ganger start                      # every process type but release, one each
   ganger start -m web=2,all=1 -p 5000
   ganger start web=2,worker         # heroku local's spelling
   ganger start --watch              # restart processes when files change
   ganger ps                         # the processes of the running start
   ganger restart web                # restart one type (or web.2, or all)
   ganger attach web.1               # this terminal to web.1's (Ctrl-] detaches)
   ganger quit                       # stop the running start, as Ctrl-C would
   ganger run rails console          # a one-off in the same environment
   ganger check                      # validate the Procfile and env files
   ganger env web.1                  # what web.1 would get, and from where
   ganger export systemd /tmp/units  # the formation as systemd units (or supervisord, ...)
   ganger build                      # build with buildpacks into the slug .ganger/slug
   ganger build                      # again: fetched buildpacks and the build cache are reused
   ganger start --slug               # release phase, then the processes, from the slug
   ganger run --slug bash            # a one-off in the slug, profile sourced
   ganger test                       # the platform's CI flow: test-compile, test-setup, test
   ganger hook install --test        # a pre-push hook running the check and the tests`,
		Version:         version(),
		Writer:          st.out,
		ErrWriter:       st.err,
		HideHelpCommand: true,
		// urfave/cli exits the process on its own unless told otherwise;
		// main maps errors to exit codes instead.
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{
			startCommand(st),
			runCommand(st),
			checkCommand(st),
			envCommand(st),
			exportCommand(st),
			psCommand(st),
			controlCommand(st, "restart"),
			controlCommand(st, "stop"),
			attachCommand(st),
			quitCommand(st),
			logsCommand(st),
			buildCommand(st),
			testCommand(st),
			hookCommand(st),
			{
				Name:  "version",
				Usage: "print ganger's version",
				Action: func(c *cli.Context) error {
					fmt.Fprintf(st.out, "ganger %s (%s %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
					return nil
				},
			},
		},
	}
	withUsageErrors(app)
	return app
}

// version is the module version stamped by the go tool, or "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
