package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/gangerdev/ganger/app"
	"github.com/gangerdev/ganger/runner/control"
)

// detachKey is Ctrl-] (as in telnet and docker): typed in an attached
// terminal, it detaches instead of reaching the process.
const detachKey = 0x1d

func attachCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "connect this terminal to one process of the running ganger start",
		ArgsUsage: "NAME",
		Description: `Connects this terminal to one process of the ganger start running for this app, such
as a debugger's prompt (pry, byebug, pdb, node inspect) or a REPL: what you type goes to
that process, its output (only its) comes back, in raw mode so that line editing, colours
and cursor control work. Resizing this terminal resizes the process's. Ctrl-] detaches
and leaves the process running; when the process exits, attach ends too.

The process must run on a pseudo-terminal that takes input: tty: true for it in
ganger.yml, or every process of a detached start launched from a terminal (ganger
start -D; or start -D --tty always). A foreground start's --tty gives terminals that
take no input: its stdin is yours.

Examples:
   ganger attach web.1
   ganger attach worker.2 -d ~/src/shop`,
		Flags: rootFlags(),
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return &app.UsageError{Err: fmt.Errorf("attach takes one process name, such as web.1; got %q", c.Args().Slice())}
			}
			return attach(c, st, c.Args().First())
		},
	}
}

// attach runs "ganger attach name".
func attach(c *cli.Context, st *streams, name string) error {
	in, ok := st.in.(*os.File)
	if !ok || !st.inTTY {
		return &app.UsageError{
			Err:  errors.New("ganger attach needs a terminal, and its stdin is not one"),
			Hint: "run it from a terminal; to read the output of " + name + " use ganger logs -f " + name,
		}
	}
	root, err := controlRoot(c, st)
	if err != nil {
		return err
	}
	fd := int(in.Fd())
	size, _ := terminalSize(fd)
	conn, err := control.Attach(c.Context, root, control.DefaultOptions(st.getenv), name, size)
	if err != nil {
		var re *control.RemoteError
		if errors.As(err, &re) {
			return &app.ExitError{Code: 1, Err: err}
		}
		return notRunning(err)
	}
	defer conn.Close()
	fmt.Fprintf(st.err, "ganger: attached to %s; press Ctrl-] to detach\n", name)
	term, err := makeRaw(fd)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", name, err)
	}
	defer term.restore()
	out := &lastByteWriter{w: st.out}
	end, sig, err := session(c.Context, conn, in, out, fd)
	conn.Close()
	if rerr := term.restore(); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if !out.atLineStart() {
		fmt.Fprintln(st.err) // after a prompt, the message goes on a line of its own
	}
	switch end {
	case endDetached:
		fmt.Fprintf(st.err, "ganger: detached from %s; it keeps running\n", name)
	case endSignal:
		return &app.ExitError{Code: 128 + int(sig), Err: fmt.Errorf("detached from %s (%s); it keeps running", name, unix.SignalName(sig))}
	case endExited:
		if err != nil {
			return fmt.Errorf("attach to %s: %w", name, err)
		}
		fmt.Fprintf(st.err, "ganger: %s exited\n", name)
	}
	return err
}

// ending says how an attach session ended.
type ending int

const (
	endExited   ending = iota // the process's output ended (it exited, or its start stopped)
	endDetached               // Ctrl-], or the end of stdin
	endSignal                 // ganger got SIGTERM, SIGHUP or SIGINT
)

// session copies in to conn (stopping at Ctrl-]) and conn to out, and
// passes on the size of the terminal fd when it changes, until one of them
// ends or a signal comes. A read of in may still be waiting when it
// returns: a terminal's read cannot be interrupted, and the goroutine ends
// with the next key or with ganger.
func session(ctx context.Context, conn *control.AttachConn, in io.Reader, out io.Writer, fd int) (ending, syscall.Signal, error) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGWINCH, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	defer signal.Stop(sigs)
	// The size may have changed between the attach and the watch.
	if sz, ok := terminalSize(fd); ok {
		conn.Resize(sz)
	}
	outDone := make(chan error, 1)
	go func() {
		_, err := io.Copy(out, conn)
		outDone <- err
	}()
	inDone := make(chan error, 1)
	go func() { inDone <- copyInput(conn, in) }()
	for {
		select {
		case err := <-outDone:
			return endExited, 0, err
		case err := <-inDone:
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, errDetach) {
				return endExited, 0, err // the connection failed
			}
			return endDetached, 0, nil
		case s := <-sigs:
			sig := s.(syscall.Signal)
			if sig != syscall.SIGWINCH {
				return endSignal, sig, nil
			}
			if sz, ok := terminalSize(fd); ok {
				conn.Resize(sz) // a failure shows in the output copy
			}
		case <-ctx.Done():
			return endSignal, syscall.SIGTERM, nil
		}
	}
}

// errDetach ends copyInput when Ctrl-] is typed.
var errDetach = errors.New("detach")

// copyInput copies in to w until Ctrl-] (errDetach; what came before it in
// the same read is sent), the end of in, or an error.
func copyInput(w io.Writer, in io.Reader) error {
	buf := make([]byte, 4096)
	for {
		n, err := in.Read(buf)
		if i := bytes.IndexByte(buf[:n], detachKey); i >= 0 {
			if i > 0 {
				if _, err := w.Write(buf[:i]); err != nil {
					return err
				}
			}
			return errDetach
		}
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
	}
}

// lastByteWriter remembers whether the last byte written ended a line.
type lastByteWriter struct {
	w       io.Writer
	midLine atomic.Bool
}

func (l *lastByteWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if n > 0 {
		l.midLine.Store(p[n-1] != '\n')
	}
	return n, err
}

func (l *lastByteWriter) atLineStart() bool { return !l.midLine.Load() }

// rawTerminal is a terminal put in raw mode; restore puts back its
// attributes as they were.
type rawTerminal struct {
	fd   int
	old  unix.Termios
	once sync.Once
	err  error
}

// makeRaw puts the terminal fd in raw mode, as cfmakeraw does: no echo, no
// line editing, no signals from keys (Ctrl-C, Ctrl-Z go to the attached
// process as bytes), no translation of input or output.
func makeRaw(fd int) (*rawTerminal, error) {
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, fmt.Errorf("read the terminal's settings: %w", err)
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &raw); err != nil {
		return nil, fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	return &rawTerminal{fd: fd, old: *old}, nil
}

// restore puts the terminal's settings back; calls after the first do
// nothing and return its error.
func (t *rawTerminal) restore() error {
	t.once.Do(func() {
		if err := unix.IoctlSetTermios(t.fd, ioctlSetTermios, &t.old); err != nil {
			t.err = fmt.Errorf("restore the terminal's settings: %w", err)
		}
	})
	return t.err
}

// terminalSize returns the size of the terminal fd.
func terminalSize(fd int) (control.Size, bool) {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 || ws.Row == 0 {
		return control.Size{}, false
	}
	return control.Size{Cols: int(ws.Col), Rows: int(ws.Row)}, true
}

func quitCommand(st *streams) *cli.Command {
	return &cli.Command{
		Name:  "quit",
		Usage: "stop the running ganger start, as Ctrl-C would",
		Description: `Stops every process of the ganger start running for this app (in this terminal, another
or detached) with the stop ladder, as Ctrl-C in its terminal would, and returns once it
has ended, nothing left behind. It prints nothing; it fails when no start is running.

Examples:
   ganger quit
   ganger quit -d ~/src/shop`,
		Flags: rootFlags(),
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return &app.UsageError{Err: fmt.Errorf("quit takes no arguments, got %q", c.Args().Slice())}
			}
			root, err := controlRoot(c, st)
			if err != nil {
				return err
			}
			opt := control.DefaultOptions(st.getenv)
			var pids []int // the start's ganger and its keeper, to see them gone
			if info, err := control.Info(c.Context, root, opt); err == nil && info.PID > 0 {
				pids = startProcesses(info.PID)
			}
			if err := control.Quit(c.Context, root, opt); err != nil {
				var re *control.RemoteError
				if errors.As(err, &re) {
					return &app.ExitError{Code: 1, Err: err}
				}
				return notRunning(err)
			}
			// The server has released its socket and lock; the ganger and its
			// keeper end right after. Return once they have: nothing is left.
			if !waitExited(pids, quitWait) {
				fmt.Fprintf(st.err, "ganger: warning: the start's ganger (pid %d) is still running %s after it stopped\n", pids[0], quitWait)
			}
			return nil
		},
	}
}

// quitWait bounds the wait for the start's ganger and keeper to exit once
// its control socket is closed.
const quitWait = 10 * time.Second
