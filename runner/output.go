package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// TTY asks for a process to run on its own pseudo-terminal instead of a pipe,
// so that it line-buffers its output and keeps its colours, as it would in a
// terminal. Zero fields mean 80 columns and 24 rows.
//
// On a terminal the process is a session leader (setsid) with the terminal as
// its controlling terminal, so its process group id is still its pid and the
// shutdown ladder, the watchdog and the parent-death signal work as with a
// pipe. Its stdout and stderr are the terminal. Its stdin stays /dev/null, as
// without one, unless Input is set: isatty(1) and isatty(2) hold, isatty(0)
// does not, so no program waits for keyboard input that nobody may ever
// send. The terminal turns each LF into CR LF; ganger removes the CR again,
// so the lines are what the process wrote. Two differences from a pipe
// remain: the process cannot tell its stderr from its stdout (they were one
// pipe already), and when it exits the kernel sends SIGHUP to what is left of
// its group (it was the terminal's controlling process).
type TTY struct {
	Cols, Rows int
	// Input makes the terminal the process's stdin too, so that what is
	// written to an Attachment reaches it, and a Ctrl-C typed there reaches
	// its foreground process group through the terminal's line discipline,
	// as in a terminal of its own. It is off by default: a process that
	// reads its stdin then waits until someone attaches and types, where
	// /dev/null would have given it end of file at once. Supervisor.Attach
	// refuses a terminal without Input.
	Input bool
}

// output carries a child's stdout and stderr to ganger: a pipe, or a
// pseudo-terminal when the spec asks for one.
type output struct {
	r      io.ReadCloser // ganger's end, read until EOF
	child  *os.File      // the child's end; ganger's copy is closed once started
	tty    bool
	master *os.File // on a terminal, the file behind r: input and resizing
	input  bool     // on a terminal, it is the child's stdin too
}

// openOutput creates the pipe or the pseudo-terminal for spec.
func openOutput(spec Spec) (*output, error) {
	if spec.TTY == nil {
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("create output pipe: %w", err)
		}
		GrowPipe(pr, childPipeSize)
		return &output{r: pr, child: pw}, nil
	}
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open a pseudo-terminal for %s: %w; hint: check that /dev/ptmx and /dev/pts are usable, or run without a terminal", spec.Name, err)
	}
	cols, rows := spec.TTY.Cols, spec.TTY.Rows
	if cols <= 0 || cols > 0xffff {
		cols = 80
	}
	if rows <= 0 || rows > 0xffff {
		rows = 24
	}
	ws := &unix.Winsize{Col: uint16(cols), Row: uint16(rows)}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		m.Close()
		s.Close()
		return nil, fmt.Errorf("set the terminal size of %s to %dx%d: %w", spec.Name, cols, rows, err)
	}
	pm, err := pollable(m)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open a pseudo-terminal for %s: %w", spec.Name, err)
	}
	return &output{r: ptyReader{pm}, child: s, tty: true, master: pm, input: spec.TTY.Input}, nil
}

// attr returns the attributes that start spec's process on this output: the
// child end as stdout and stderr, stdin from null (from the terminal with
// TTY.Input), and its own process group, or on a terminal its own session
// with the terminal as controlling terminal (and so a group whose id is its
// pid).
func (o *output) attr(spec Spec, null *os.File) *syscall.ProcAttr {
	sys := procAttr()
	if o.tty {
		sys.Setpgid = false // a session leader already leads its own group
		sys.Setsid = true
		sys.Setctty = true
		sys.Ctty = 1 // a descriptor number in the child: its stdout
	}
	// Fd leaves the descriptors blocking, as os.StartProcess would: null
	// is not pollable, and the child end is closed once the child has it.
	out := o.child.Fd()
	in := null.Fd()
	if o.input {
		in = out
	}
	return &syscall.ProcAttr{Dir: spec.Dir, Env: spec.Env, Files: []uintptr{in, out, out}, Sys: sys}
}

// started closes ganger's copy of the child end, once the child has its own:
// from then on the reader sees EOF when the last holder closes it.
func (o *output) started() { o.child.Close() }

// lines wraps w for this output: on a terminal, CR LF becomes LF.
func (o *output) lines(w LineWriter) LineWriter {
	if o.tty {
		return crlfWriter{w}
	}
	return w
}

// ptyReader reads a pseudo-terminal's master. Once no process holds the
// slave any more Linux answers EIO, not EOF: that is the end of the output.
type ptyReader struct{ *os.File }

func (r ptyReader) Read(p []byte) (int, error) {
	n, err := r.File.Read(p)
	if err != nil && errors.Is(err, syscall.EIO) {
		err = io.EOF
	}
	return n, err
}

// crlfWriter undoes the terminal's output translation of LF into CR LF.
type crlfWriter struct{ w LineWriter }

// WriteLines rewrites p in place (it is copyLines's own buffer, and the bytes
// after p are not touched).
func (c crlfWriter) WriteLines(p []byte) error { return c.w.WriteLines(dropCR(p)) }

var crlf = []byte("\r\n")

// dropCR turns each CR LF in p into LF, in place, and returns the shortened
// p. Any other CR is kept.
func dropCR(p []byte) []byte {
	i := bytes.Index(p, crlf)
	if i < 0 {
		return p
	}
	out := p[:i]
	rest := p[i+1:] // starts at the LF
	for {
		j := bytes.Index(rest[1:], crlf)
		if j < 0 {
			return append(out, rest...)
		}
		out = append(out, rest[:j+1]...)
		rest = rest[j+2:]
	}
}
