//go:build !linux

package main

import "io"

// growOutputPipe does nothing: pipe sizes are fixed here.
func growOutputPipe(out io.Writer) {}
