package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/logmux"
	"github.com/urfave/cli/v2"
)

// defaultLogLines is how many recent lines "ganger logs" shows by default,
// as heroku logs does.
const defaultLogLines = 100

func logsCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print the recent output of the running ganger start (detached or in another terminal)",
		ArgsUsage: "[NAME|TYPE ...]",
		Description: `Prints the last lines of the processes named (instance names such as web.1, or
types such as web; every process and ganger's own lines when none is named) of the ganger
start running for this app, with the prefixes and colour rules of start; -f then follows new
lines until Ctrl-C or until the start ends. The running start keeps the last 1000 lines
(at most 256 KiB) of each process in memory; a detached start also writes everything to
.ganger/start.log.

--json prints one object a line for tools:
   {"time":"2026-01-02T15:04:05.123Z","name":"web.1","stream":"out","text":"GET /"}
(stream is "out" for what the process wrote, "system" for ganger's own lines).

Examples:
   ganger logs                # the last 100 lines
   ganger logs -f web         # follow web's instances
   ganger logs -n 0 -f        # only what comes from now on
   ganger logs --json -n 1000 | jq -r 'select(.stream=="system") | .text'`,
		// -f is --follow here, as in tail and docker logs; the Procfile is
		// named with --procfile.
		Flags: slices.Concat([]cli.Flag{
			&cli.StringFlag{Name: "root", Aliases: []string{"d"}, Usage: "the app root `DIR` (default: the nearest directory up from here with a Procfile)"},
			&cli.StringFlag{Name: "procfile", Usage: "the Procfile `FILE`, naming the app by its directory (-f is --follow here)"},
		}, outputFlags(), []cli.Flag{
			&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: defaultLogLines, Usage: "print the last `N` lines (0: none)"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f", "t", "tail"}, Usage: "then print new lines as they come, until Ctrl-C (heroku logs' --tail)"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON object a line: time, name, stream, text"},
		}),
		Action: func(c *cli.Context) error {
			n := c.Int("lines")
			if n < 0 {
				return &app.UsageError{Err: fmt.Errorf("-n %d: want 0 or more lines", n)}
			}
			root, err := controlRoot(c, st)
			if err != nil {
				return err
			}
			opt := control.DefaultOptions(st.getenv)
			req := control.LogsRequest{Names: c.Args().Slice(), Lines: n, Follow: c.Bool("follow")}
			if slices.Contains(req.Names, "all") {
				req.Names = nil
			}
			print, err := logPrinter(c, st, root, opt)
			if err != nil {
				return err
			}
			ctx, _, stop := formationSignals(c.Context)
			defer stop()
			err = control.Logs(ctx, root, opt, req, print)
			if ctx.Err() != nil {
				return nil // Ctrl-C ends a follow
			}
			if err != nil {
				return notRunning(err)
			}
			return nil
		},
	}
}

// logPrinter returns what prints one record: JSON, or start's prefixed
// lines with the time the line was written.
func logPrinter(c *cli.Context, st *streams, root string, opt control.Options) (func(control.Record) error, error) {
	if c.Bool("json") {
		enc := json.NewEncoder(st.out)
		return func(r control.Record) error { return enc.Encode(r) }, nil
	}
	out, err := outputOptions(&settings{c: c, st: st}, st)
	if err != nil {
		return nil, err
	}
	// The names fix the column's width and the colours, as in start.
	names := []string{logmux.SystemName}
	if procs, err := control.Status(c.Context, root, opt); err == nil {
		for _, p := range procs {
			names = append(names, p.Name)
		}
	} else {
		return nil, notRunning(err)
	}
	var at time.Time
	mux := logmux.New(st.out, logmux.Options{Color: out.Color, Timestamp: out.Timestamp, Prefix: out.Prefix, Names: names, Now: func() time.Time { return at }})
	writers := map[string]runner.LineWriter{}
	return func(r control.Record) error {
		at = r.Time.Local()
		if r.Stream != control.StreamOut {
			return mux.Line(r.Name, r.Text) // ganger's own: escaped, as start shows it
		}
		w, ok := writers[r.Name]
		if !ok {
			w = mux.Lines(r.Name)
			writers[r.Name] = w
		}
		return w.WriteLines([]byte(r.Text + "\n")) // the process's bytes, as start shows them
	}, nil
}
