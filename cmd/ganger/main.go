// Command ganger runs Procfile apps the way the platform runs them.
//
// This package is thin wiring: flags become options, options become calls to
// procfile, env, runner and buildpack. It alone knows urfave/cli, decides
// about terminals and colour, maps errors to exit codes, and calls os.Exit.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
)

func main() {
	st := &streams{
		in:      os.Stdin,
		out:     os.Stdout,
		err:     os.Stderr,
		environ: os.Environ(),
		outTTY:  isatty.IsTerminal(os.Stdout.Fd()),
		inTTY:   isatty.IsTerminal(os.Stdin.Fd()),
	}
	os.Exit(run(context.Background(), os.Args, st))
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

// exitError carries an exit code. A nil err means nothing more to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a mistake in the command line; it exits 2.
type usageError struct {
	err  error
	hint string
}

func (e *usageError) Error() string {
	if e.hint == "" {
		return e.err.Error()
	}
	return e.err.Error() + "\n" + e.hint
}

func (e *usageError) Unwrap() error { return e.err }

// run runs ganger with args and returns the exit code.
func run(ctx context.Context, args []string, st *streams) int {
	app := newApp(st)
	err := app.RunContext(ctx, interspersed(app, args))
	return exitCode(err, st.err)
}

// exitCode prints err (if any) and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "ganger: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "ganger: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) || isCLIUsageError(err) {
		return 2
	}
	return 1
}

// isCLIUsageError recognises urfave/cli's own messages about flags.
func isCLIUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{"flag provided but not defined", "flag needs an argument", "invalid value", "Required flag", "No help topic", "invalid boolean"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
