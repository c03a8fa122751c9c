package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/logmux"
)

// ttyFlags choose how children see their output: a pipe or a terminal.
func ttyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tty", Usage: "run each process on its own pseudo-terminal, so it line-buffers and keeps its colours: `auto` (when ganger's stdout is a terminal), always or never"},
	}
}

// Default terminal size when ganger's own is unknown.
const (
	defaultCols = 80
	defaultRows = 24
	minCols     = 20 // a child's width never shrinks below this for the prefix
)

// ttyFor decides at the edge whether children get a terminal, and of what
// size: ganger's own, less the prefix, or 80x24. nil means a pipe.
func ttyFor(set *settings, st *streams, mux *logmux.Mux) (*runner.TTY, error) {
	switch mode := set.str("tty", "auto"); mode {
	case "always", "true", "on", "yes":
	case "never", "false", "off", "no":
		return nil, nil
	case "auto", "":
		if !st.outTTY {
			return nil, nil
		}
	default:
		return nil, &usageError{err: fmt.Errorf("--tty %q: want auto, always or never", mode), hint: "GANGER_TTY and tty: in .foreman take the same values"}
	}
	cols, rows := defaultCols, defaultRows
	if f, ok := st.out.(*os.File); ok && st.outTTY {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 && ws.Row > 0 {
			cols, rows = max(int(ws.Col)-mux.PrefixWidth(), minCols), int(ws.Row)
		}
	}
	return &runner.TTY{Cols: cols, Rows: rows}, nil
}
