package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner/watch"
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

type checkEntry struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	Line    int    `json:"line"`
}

type checkError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

type checkResult struct {
	Valid    bool         `json:"valid"`
	Procfile string       `json:"procfile"`
	Entries  []checkEntry `json:"entries"`
	EnvFiles []string     `json:"env_files"`
	Errors   []checkError `json:"errors"`
}

func check(c *cli.Context, st *streams) error {
	set, err := loadSettings(c, st)
	if err != nil {
		return err
	}
	root, pfPath, err := set.locate()
	if err != nil {
		return err
	}
	res := checkResult{Procfile: pfPath, Entries: []checkEntry{}, EnvFiles: []string{}, Errors: []checkError{}}
	var problems []error
	pf, err := procfile.ReadFile(pfPath)
	if err != nil {
		problems = append(problems, err)
	} else {
		for _, e := range pf.Entries {
			res.Entries = append(res.Entries, checkEntry(e))
		}
	}
	p := &project{set: set, root: root}
	if err := p.loadEnv(); err != nil {
		problems = append(problems, err)
	}
	res.EnvFiles = append(res.EnvFiles, p.envFiles...)
	cfPath := filepath.Join(root, config.FileName)
	if cf, err := config.ReadFile(relPath(cfPath)); err != nil {
		problems = append(problems, err)
	} else if pf != nil {
		if err := cf.Check(pf.Names(), watch.CheckGlob); err != nil {
			problems = append(problems, err)
		}
	}
	for _, err := range problems {
		res.Errors = append(res.Errors, flattenErrors(err)...)
	}
	res.Valid = len(res.Errors) == 0

	if c.Bool("json") {
		enc := json.NewEncoder(st.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
		if !res.Valid {
			return &exitError{code: 1}
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
		return &exitError{code: 1, err: fmt.Errorf("check failed: %d problem%s", n, plural(n))}
	}
	fmt.Fprintf(st.out, "valid procfile detected (%s)\n", strings.Join(pf.Names(), ", "))
	return nil
}

// flattenErrors turns joined parse errors into one entry per line error.
func flattenErrors(err error) []checkError {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []checkError
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	var pe *procfile.LineError
	if errors.As(err, &pe) {
		msg := pe.Msg
		if pe.Hint != "" {
			msg += "; hint: " + pe.Hint
		}
		return []checkError{{File: pe.Path, Line: pe.Line, Message: msg}}
	}
	var ee *env.LineError
	if errors.As(err, &ee) {
		return []checkError{{File: ee.Path, Line: ee.Line, Message: ee.Msg}}
	}
	var ce *config.LineError
	if errors.As(err, &ce) {
		return []checkError{{File: ce.Path, Line: ce.Line, Message: ce.Msg}}
	}
	return []checkError{{Message: err.Error()}}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
