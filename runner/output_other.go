//go:build !linux

package runner

import "os"

// pollable returns m unchanged: kqueue does not report pseudo-terminal
// masters reliably (creack/pty went back to blocking reads for this), so
// each reader keeps its own blocking read.
func pollable(m *os.File) (*os.File, error) { return m, nil }

const childPipeSize = 0

// GrowPipe does nothing: pipe sizes are fixed here.
func GrowPipe(f *os.File, size int) {}

// hungUp returns false: the count of readable returns bounds the reads.
func hungUp(fd uintptr) bool { return false }

// readable returns -1: how much a pipe holds is not asked here.
func readable(fd uintptr) int { return -1 }
