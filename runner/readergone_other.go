//go:build !linux

package runner

import (
	"context"
	"errors"
	"os"
)

// ErrReaderGone is what WaitReaderGone reports: the pipe has no reader
// left.
var ErrReaderGone = errors.New("the reader of stdout exited")

// WaitReaderGone does nothing here and returns nil: a closed pipe is found
// by the next write.
func WaitReaderGone(context.Context, *os.File) error { return nil }
