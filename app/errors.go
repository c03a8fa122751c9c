package app

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/gangerdev/ganger/runner"
)

// UsageError is a mistake on the command line or in the options; the
// command exits 2. Hint, when set, says what to do instead.
type UsageError struct {
	Err  error
	Hint string
}

func (e *UsageError) Error() string {
	if e.Hint == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + "\n" + e.Hint
}

func (e *UsageError) Unwrap() error { return e.Err }

// usagef is a UsageError with a hint.
func usagef(hint, format string, args ...any) *UsageError {
	return &UsageError{Err: fmt.Errorf(format, args...), Hint: hint}
}

// ExitError ends the command with Code. A nil Err means nothing more to
// print: what happened was already shown.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Interrupt is the cause a command's signal loop gives the context it
// cancels when ganger is asked to stop by a signal: a formation that ends
// so exits with 128+Signal.
type Interrupt struct{ Signal syscall.Signal }

func (i Interrupt) Error() string { return runner.SignalName(i.Signal) + " received" }

// InterruptCode is 128+n when ctx was cancelled by an Interrupt of signal
// n, else 0.
func InterruptCode(cause error) int {
	var in Interrupt
	if errors.As(cause, &in) {
		return 128 + int(in.Signal)
	}
	return 0
}
