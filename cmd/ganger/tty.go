package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/gangerdev/ganger/app"
)

// ttyFlags choose how children see their output: a pipe or a terminal.
func ttyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tty", Usage: "run each process on its own pseudo-terminal, so it line-buffers and keeps its colours: auto, always or never (auto, the default: when ganger's stdout is a terminal)"},
	}
}

// ttyFor decides at the edge whether children get a terminal, and gives
// ganger's own terminal's size when it has one. nil means a pipe.
func ttyFor(set *settings, st *streams) (*app.TTY, error) {
	switch mode := set.str("tty", "auto"); mode {
	case "always", "true", "on", "yes":
	case "never", "false", "off", "no":
		return nil, nil
	case "auto", "":
		if !st.outTTY {
			return nil, nil
		}
	default:
		return nil, &app.UsageError{Err: fmt.Errorf("--tty %q: want auto, always or never", mode), Hint: "GANGER_TTY and tty: in .foreman take the same values"}
	}
	t := &app.TTY{}
	if f, ok := st.out.(*os.File); ok && st.outTTY {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 && ws.Row > 0 {
			t.Cols, t.Rows = int(ws.Col), int(ws.Row)
		}
	}
	return t, nil
}
