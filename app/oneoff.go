package app

import (
	"errors"
	"strings"

	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner"
)

// OneOff is the one-off "ganger run" starts for args, in the app's
// environment with PS and DYNO run.1: one argument naming a Procfile entry
// runs that entry's command with its PORT; any other single argument runs
// through sh -c; several run as given (from a slug, through its profile).
// The caller sets the streams.
func (a *App) OneOff(args []string) (runner.OneOff, error) {
	if len(args) == 0 {
		return runner.OneOff{}, &UsageError{Err: errors.New("run: name a command"), Hint: "example: ganger run rails console"}
	}
	port := a.Port
	var argv []string
	dir := a.Root
	switch {
	case len(args) == 1:
		command := args[0]
		if e, idx, ok := a.Procfile.Lookup(args[0]); ok {
			port = procfile.Port(a.Port, idx, 1)
			command = e.Command
		}
		argv, dir = a.command(command)
	case a.Slug != nil:
		// The profile's shell runs the words as given, unparsed.
		words := make([]string, len(args))
		for i, w := range args {
			words[i] = procfile.ShellQuote(w)
		}
		argv, dir = a.command("exec " + strings.Join(words, " "))
	default:
		// The shell finds the program on the child's PATH, not ganger's.
		argv = append([]string{"/bin/sh", "-c", `exec "$0" "$@"`}, args...)
	}
	e, err := a.InstanceEnv(oneOffName, port)
	if err != nil {
		return runner.OneOff{}, err
	}
	return runner.OneOff{Argv: argv, Dir: dir, Env: e.Environ()}, nil
}
