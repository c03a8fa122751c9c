package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/runner/logmux"
)

func envCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:      "env",
		Usage:     "print the environment a process would get, with the source of each key",
		ArgsUsage: "[TYPE[.N]]",
		Description: `Prints every variable a process would get, sorted, with where it came from: the shell,
an env file and line, or ganger (PORT, PS, DYNO). Without an argument it shows what every
process shares; with web or web.2 it adds that instance's PORT, PS and DYNO.

Values of keys that look secret (*KEY*, *SECRET*, *TOKEN*, *PASSWORD*, ...) and passwords
in URLs are masked unless --reveal. --shell=false leaves out what came from the shell.

--json prints a stable array for tools:
   [{"key": "PORT", "value": "5000", "source": "ganger", "masked": false}, ...]
   (file sources also carry "line").

Examples:
   ganger env web.1
   ganger env --shell=false
   ganger env --json --reveal worker.2`,
		Flags: append(appFlags(),
			&cli.BoolFlag{Name: "reveal", Usage: "show secret values"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "shell", Value: true, Usage: "include variables inherited from the shell"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return &app.UsageError{Err: fmt.Errorf("env: takes at most one process name, got %d", c.NArg())}
			}
			need := app.NeedApp
			if c.NArg() == 1 {
				need = app.NeedProcfile
			}
			_, o, err := loadOptions(c, st, need)
			if err != nil {
				return err
			}
			o.ProcfileOptional = c.NArg() == 0
			a, err := app.Load(o)
			if err != nil {
				return err
			}
			if a.ProcfileErr != nil {
				fmt.Fprintf(st.err, "ganger: warning: %v\n", a.ProcfileErr)
			}
			e := a.Env
			if c.NArg() == 1 {
				name, port, err := a.Instance(c.Args().First())
				if err != nil {
					return fmt.Errorf("env: %w", err)
				}
				if e, err = a.InstanceEnv(name, port); err != nil {
					return err
				}
			}
			return printEnv(st, e, c.Bool("reveal"), c.Bool("json"), c.Bool("shell"))
		},
	}
}

type envJSON struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Line   int    `json:"line,omitempty"`
	Masked bool   `json:"masked"`
}

func printEnv(st *streams, e *env.Env, reveal, asJSON, shell bool) error {
	out := []envJSON{}
	for _, v := range e.Vars() {
		if !shell && v.Source == env.SourceShell {
			continue
		}
		j := envJSON{Key: v.Key, Value: v.Value, Source: v.Source, Line: v.Line}
		if !reveal && env.IsSecret(v.Key, v.Value) {
			j.Value, j.Masked = env.Mask(v.Value), true
		}
		out = append(out, j)
	}
	if asJSON {
		enc := json.NewEncoder(st.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	// The source comments line up, except after the odd very long value
	// (a PATH), which would push every comment off the screen.
	const maxAlign = 48
	lines := make([]string, len(out))
	width := 0
	for i, v := range out {
		val := v.Value
		if !v.Masked {
			val = env.Quote(v.Value)
		}
		lines[i] = v.Key + "=" + logmux.Escape(val)
		if n := len(lines[i]); n <= maxAlign && n > width {
			width = n
		}
	}
	w := bufio.NewWriter(st.out)
	for i, v := range out {
		src := v.Source
		if v.Line > 0 {
			src = fmt.Sprintf("%s:%d", v.Source, v.Line)
		}
		pad := max(width-len(lines[i]), 0) + 2
		fmt.Fprintf(w, "%s%s# %s\n", lines[i], strings.Repeat(" ", pad), logmux.Escape(src))
	}
	return w.Flush()
}
