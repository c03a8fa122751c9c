package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/gangerdev/ganger/app"
)

// Mistakes on the command line get one line saying what is wrong, one
// saying where help is, and exit 2: never a page of help, never the error
// twice.

// withUsageErrors makes every command, and ganger itself, report a flag it
// does not know as a usage error instead of printing its help.
func withUsageErrors(a *cli.App) {
	onUsage := func(name string) cli.OnUsageErrorFunc {
		return func(_ *cli.Context, err error, _ bool) error {
			if cmd, ok := strings.CutPrefix(name, "ganger "); ok {
				err = fmt.Errorf("%s: %w", cmd, err)
			}
			return &app.UsageError{Err: err, Hint: fmt.Sprintf("run \"%s --help\" for its flags", name)}
		}
	}
	a.OnUsageError = onUsage("ganger")
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			c.OnUsageError = onUsage(prefix + " " + c.Name)
			walk(prefix+" "+c.Name, c.Subcommands)
		}
	}
	walk("ganger", a.Commands)
}

// dispatch checks the command named in args before urfave/cli sees it:
// "ganger help start" becomes "ganger start --help", and an unknown command
// is a usage error suggesting the nearest one.
func dispatch(a *cli.App, args []string) ([]string, error) {
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return args, nil
	}
	name := args[1]
	if name == "help" {
		if len(args) == 2 {
			return []string{args[0], "--help"}, nil
		}
		if a.Command(args[2]) == nil {
			return nil, unknownCommand(a, args[2])
		}
		return append([]string{args[0]}, append(args[2:], "--help")...), nil
	}
	if a.Command(name) == nil {
		return nil, unknownCommand(a, name)
	}
	return args, nil
}

// unknownCommand words an unknown command, with the nearest known one when
// one is near enough to be a typo.
func unknownCommand(a *cli.App, name string) error {
	err := fmt.Errorf("unknown command %q", name)
	hint := `run "ganger --help" for the commands`
	if near := nearest(name, commandNames(a)); near != "" {
		hint = fmt.Sprintf("did you mean \"ganger %s\"? %s", near, hint)
	}
	return &app.UsageError{Err: err, Hint: hint}
}

func commandNames(a *cli.App) []string {
	var out []string
	for _, c := range a.Commands {
		out = append(out, c.Names()...)
	}
	return out
}

// nearest is the name closest to s by edit distance, if it is at most a
// third of s's length away (at least 1, at most 2); "" otherwise.
func nearest(s string, names []string) string {
	best, bestD := "", min(max(len(s)/3, 1), 2)+1
	for _, n := range names {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment) of a and b, so a transposition ("strat") counts as one edit.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = slices.Min([]int{d[i-1][j] + 1, d[i][j-1] + 1, d[i-1][j-1] + cost})
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
