package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gangerdev/ganger/app"
	"github.com/urfave/cli/v2"
)

func checkCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "validate the Procfile, the env files and ganger.yml",
		Description: `Parses the Procfile, the env files and ganger.yml and reports every problem with FILE:LINE, or
"valid procfile detected (web, worker)" in Procfile order. Nothing is run.

--json prints a stable, documented object for tools and editors:
   {"valid": true, "procfile": "Procfile",
    "entries": [{"name": "web", "command": "...", "line": 1}, ...],
    "env_files": [".env"],
    "errors": [{"file": "Procfile", "line": 3, "message": "..."}]}

--boot is the pre-push check: it builds the app with its buildpacks (or, with --slug,
takes the slug as it is), runs the release phase, starts every process from the slug,
waits until each is up (web: its PORT accepts connections; a ready: of ganger.yml;
others: still running after --settle, 3s), stops them cleanly and prints a table of
every step with pass or FAIL and its time. The exit code is 0 only when all passed.

Examples:
   ganger check
   ganger check --boot                       # build, release, boot, stop
   ganger check --boot --slug --settle 5s    # the existing slug
   ganger check -f Procfile.dev -e .env,.env.local
   ganger check --json | jq -r '.entries[].name'`,
		Flags: slices.Concat(appFlags(), []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"}}, bootFlags()),
		Action: func(c *cli.Context) error {
			if c.Bool("boot") {
				return bootCheck(c, st)
			}
			return check(c, st)
		},
	}
}

func check(c *cli.Context, st *streams) error {
	_, o, err := loadOptions(c, st, app.NeedProcfile)
	if err != nil {
		return err
	}
	res, err := app.Check(o)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(st.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
		if !res.Valid {
			return &app.ExitError{Code: 1}
		}
		return nil
	}
	if !res.Valid {
		for _, e := range res.Errors {
			switch {
			case e.Line > 0:
				fmt.Fprintf(st.err, "%s:%d: %s\n", e.File, e.Line, e.Message)
			case e.File != "":
				fmt.Fprintf(st.err, "%s: %s\n", e.File, e.Message)
			default:
				fmt.Fprintln(st.err, e.Message)
			}
		}
		n := len(res.Errors)
		return &app.ExitError{Code: 1, Err: fmt.Errorf("check failed: %d problem%s", n, plural(n))}
	}
	names := make([]string, len(res.Entries))
	for i, e := range res.Entries {
		names[i] = e.Name
	}
	fmt.Fprintf(st.out, "valid procfile detected (%s)\n", strings.Join(names, ", "))
	return nil
}

// bootFlags are check's flags for the pre-push check.
func bootFlags() []cli.Flag {
	return slices.Concat([]cli.Flag{
		&cli.BoolFlag{Name: "boot", Usage: "build the app, run the release phase, start every process from the slug, wait until each is up, stop them: the pre-push check"},
		&cli.BoolFlag{Name: "slug", Usage: "with --boot: use the slug as it is instead of building"},
		&cli.StringFlag{Name: "settle", Usage: "with --boot: how long a process without a readiness check must keep running to pass (`TIME`, default 3s)"},
		&cli.StringFlag{Name: "boot-timeout", Usage: "with --boot: how long a process may take to be ready (`TIME`, default 60s)"},
	}, formationFlags(), outputFlags(), buildpackFlags())
}

// bootCheck is "ganger check --boot".
func bootCheck(c *cli.Context, st *streams) error {
	set, o, err := loadOptions(c, st, app.NeedSource)
	if err != nil {
		return err
	}
	bo := app.BootOptions{Options: o}
	if bo.Settle, err = set.duration("settle", 3*time.Second, true); err != nil {
		return err
	}
	if bo.Limit, err = set.duration("boot-timeout", time.Minute, true); err != nil {
		return err
	}
	if useSlug, err := set.bool("slug"); err != nil {
		return err
	} else if !useSlug {
		b, err := buildOptions(c, set, st)
		if err != nil {
			return err
		}
		bo.Build = &b
	}
	if bo.Output, err = outputOptions(set, st); err != nil {
		return err
	}
	if bo.NoPortCheck, err = set.bool("no-port-check"); err != nil {
		return err
	}
	ctx, sig, stop := formationSignals(c.Context)
	defer stop()
	bo.Signals = sig
	rows, err := app.BootCheck(ctx, bo)
	if rows != nil {
		printBootTable(st, rows)
	}
	return err
}

// printBootTable prints the boot check's table and its verdict.
func printBootTable(st *streams, rows []app.BootRow) {
	tw := tabwriter.NewWriter(st.out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tTIME\tDETAIL")
	failed := 0
	for _, r := range rows {
		res := "pass"
		if !r.Pass {
			res = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, res, app.RoundSeconds(r.Took), r.Detail)
	}
	tw.Flush()
	if failed == 0 {
		fmt.Fprintf(st.out, "boot check passed: %d of %d\n", len(rows), len(rows))
	} else {
		fmt.Fprintf(st.out, "boot check failed: %d of %d failed\n", failed, len(rows))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
