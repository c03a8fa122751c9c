package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/runner/control"
)

// rootFlags find the app whose running ganger start a control command talks to.
func rootFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "root", Aliases: []string{"d"}, Usage: "the app root `DIR` (default: the nearest directory up from here with a Procfile)"},
		&cli.StringFlag{Name: "procfile", Aliases: []string{"f"}, Usage: "the Procfile `FILE`, naming the app by its directory"},
	}
}

// controlRoot is the app root: -d, -f or GANGER_ROOT when given, else the
// nearest directory holding a Procfile, so the commands work from any
// subdirectory of the app.
func controlRoot(c *cli.Context, st *streams) (string, error) {
	_, o, err := loadOptions(c, st, app.NeedProcfile)
	if err != nil {
		return "", err
	}
	root, _, err := app.Locate(o)
	return root, err
}

// notRunning words a missing server with the way out.
func notRunning(err error) error {
	if errors.Is(err, control.ErrNotRunning) {
		return &app.ExitError{Code: 1, Err: fmt.Errorf("%w; start it with \"ganger start\" (ganger ps, restart and stop talk to a running start)", err)}
	}
	return err
}

func psCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "list the processes of the running ganger start",
		Description: `Asks the ganger start running for this app (over its control socket) for every
process: state (running, waiting, stopping, stopped, exited, crashed, backing-off), pid,
port, uptime, restarts and the last exit code.

--json prints a stable array for tools:
   [{"name":"web.1","type":"web","state":"running","pid":4242,"port":5000,
     "started":"2026-01-02T15:04:05Z","restarts":0,"exit_code":null}]

Examples:
   ganger ps
   ganger ps --json | jq -r '.[] | select(.state=="crashed") | .name'
   ganger ps -d ~/src/shop`,
		Flags: append(rootFlags(), &cli.BoolFlag{Name: "json", Usage: "print the processes as JSON"}),
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return &app.UsageError{Err: fmt.Errorf("ps takes no arguments, got %q", c.Args().Slice())}
			}
			root, err := controlRoot(c, st)
			if err != nil {
				return err
			}
			procs, err := control.Status(c.Context, root, control.DefaultOptions(st.getenv))
			if err != nil {
				return notRunning(err)
			}
			if c.Bool("json") {
				enc := json.NewEncoder(st.out)
				enc.SetIndent("", "  ")
				return enc.Encode(procs)
			}
			if err := control.WriteTable(st.out, procs, time.Now()); err != nil {
				return err
			}
			for _, p := range procs {
				if p.Name == app.RouterName {
					fmt.Fprintf(st.out, "\nthe app is at http://localhost:%d/ (the router, in front of web)\n", p.Port)
				}
			}
			if info, err := control.Info(c.Context, root, control.DefaultOptions(st.getenv)); err == nil && info.Log != "" {
				fmt.Fprintf(st.out, "\noutput in %s (ganger logs -f follows it)\n", app.RelPath(info.Log))
			}
			return nil
		},
	}
}

// controlCommand is restart or stop.
func controlCommand(st *streams, name string) *cli.Command {
	verb, usage, desc := "restarted", "restart processes of the running ganger start", `Restarts the named processes (instance names such as web.1, or types such as web;
every process when none is named, or with all) of the ganger start running for this app: each gets
its stop signal, SIGKILL after the timeout, and is started again once its process group
is empty. A stopped, exited or crashed process is started. It returns once they run.`
	if name == "stop" {
		verb, usage, desc = "stopped", "stop processes of the running ganger start", `Stops the named processes (instance names or types; every process when none is
named, or with all) of the ganger start running for this app, with the stop ladder. A process
stopped on purpose does not stop the others; "ganger restart" starts it again.`
	}
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "[NAME|TYPE ...]",
		Description: desc + `

Examples:
   ganger ` + name + ` web          # every web instance
   ganger ` + name + ` worker.2     # one instance
   ganger ` + name + `              # everything`,
		Flags: rootFlags(),
		Action: func(c *cli.Context) error {
			root, err := controlRoot(c, st)
			if err != nil {
				return err
			}
			names := c.Args().Slice()
			if slices.Contains(names, "all") {
				names = nil // every process, as ganger --help says
			}
			opt := control.DefaultOptions(st.getenv)
			if name == "stop" {
				err = control.Stop(c.Context, root, names, opt)
			} else {
				err = control.Restart(c.Context, root, names, opt)
			}
			if err != nil {
				var re *control.RemoteError
				if errors.As(err, &re) {
					return &app.ExitError{Code: 1, Err: err}
				}
				return notRunning(err)
			}
			what := "every process"
			if len(names) > 0 {
				what = strings.Join(names, ", ")
			}
			fmt.Fprintf(st.out, "%s %s\n", verb, what)
			return nil
		},
	}
}
