// Command ganger runs Procfile apps the way the platform runs them.
//
// This package is thin wiring: flags, GANGER_* variables and .foreman become
// typed options once, and options become calls into package app (and, for
// the commands that need no app, into control and buildpack). It alone knows
// urfave/cli, decides about terminals, colour and signals, prints, maps
// typed errors to exit codes, and calls os.Exit.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/runner/logmux"
	"github.com/mattn/go-isatty"
)

func main() {
	// First, before anything reads the environment: on Linux a command
	// that starts processes runs under a keeper (keeper_linux.go).
	k := keep(os.Args)
	if k.exit {
		os.Exit(k.code)
	}
	d := takeDaemonEnv()
	st := &streams{
		in:       os.Stdin,
		out:      os.Stdout,
		err:      os.Stderr,
		environ:  os.Environ(),
		outTTY:   isatty.IsTerminal(os.Stdout.Fd()),
		inTTY:    isatty.IsTerminal(os.Stdin.Fd()),
		detached: d,
	}
	if d != nil {
		st.out, st.err = d.text, d.text // until its start is under way
	}
	code := run(context.Background(), os.Args, st)
	k.finish()
	os.Exit(code)
}

// streams is everything ganger takes from the world it runs in. main builds
// the real one; tests build their own.
type streams struct {
	in      io.Reader
	out     io.Writer
	err     io.Writer
	environ []string
	outTTY  bool
	inTTY   bool
	// detached is set in the ganger that "ganger start -D" started.
	detached *detached
}

// getenv looks key up in the injected environment.
func (st *streams) getenv(key string) string {
	for i := len(st.environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(st.environ[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// run runs ganger with args and returns the exit code.
func run(ctx context.Context, args []string, st *streams) int {
	cliApp := newApp(st)
	args, err := dispatch(cliApp, args)
	if err == nil {
		err = cliApp.RunContext(ctx, interspersed(cliApp, args))
	}
	return exitCode(err, st.err)
}

// exitCode prints err (if any) and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *app.ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "ganger: %s\n", logmux.Escape(ee.Err.Error()))
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "ganger: %s\n", logmux.Escape(err.Error()))
	var ue *app.UsageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
