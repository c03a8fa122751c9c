//go:build !linux

package main

import (
	"context"

	"github.com/gangerdev/ganger/runner"
)

// watchReader does nothing here: a closed pipe is found by the next write.
func watchReader(out any) func(context.Context, *runner.Supervisor) {
	return func(context.Context, *runner.Supervisor) {}
}
