package logmux

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/fatih/color"

	"github.com/gangerdev/ganger/runner"
)

// SystemName is the name ganger's own messages are shown under.
const SystemName = "system"

// Options configure a Mux.
type Options struct {
	Color     bool     // colour the prefixes
	Timestamp bool     // show HH:MM:SS
	Prefix    bool     // show the name column
	Names     []string // the process names, in order: fixes colours and the column width
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// palette is foreman's colour order.
var palette = [...]color.Attribute{color.FgCyan, color.FgYellow, color.FgGreen, color.FgMagenta, color.FgRed, color.FgBlue}

// Mux writes prefixed lines to one writer. It implements runner.Sink.
type Mux struct {
	opts  Options
	width int

	mu      sync.Mutex // guards w, err, colours
	w       io.Writer
	err     error
	colours map[string]int
}

// New returns a Mux writing to w.
func New(w io.Writer, opts Options) *Mux {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Mux{opts: opts, w: w, width: len(SystemName), colours: map[string]int{}}
	for _, n := range opts.Names {
		if len(n) > m.width {
			m.width = len(n)
		}
		if _, ok := m.colours[n]; !ok {
			m.colours[n] = len(m.colours)
		}
	}
	return m
}

// head and tail are what goes before and after the timestamp.
type prefix struct{ head, tail []byte }

// prefixFor renders name's prefix once.
func (m *Mux) prefixFor(name string) prefix {
	if !m.opts.Prefix && !m.opts.Timestamp {
		return prefix{}
	}
	var start, end string
	if m.opts.Color {
		var c *color.Color
		if name == SystemName {
			c = color.New(color.FgHiWhite)
		} else {
			m.mu.Lock()
			i, ok := m.colours[name]
			if !ok {
				i = len(m.colours)
				m.colours[name] = i
			}
			m.mu.Unlock()
			c = color.New(palette[i%len(palette)])
		}
		c.EnableColor()
		s := c.Sprint("\x00")
		if i := bytes.IndexByte([]byte(s), 0); i >= 0 {
			start, end = s[:i], s[i+1:]
		}
	}
	var tail []byte
	if m.opts.Prefix {
		if m.opts.Timestamp {
			tail = append(tail, ' ')
		}
		tail = append(tail, name...)
		for i := len(name); i < m.width; i++ {
			tail = append(tail, ' ')
		}
		tail = append(tail, " |"...)
	}
	tail = append(tail, end...)
	tail = append(tail, ' ')
	return prefix{head: []byte(start), tail: tail}
}

var newline = []byte{'\n'}

// clock caches the formatted time for one second.
type clock struct {
	sec int64
	buf []byte
}

func (c *clock) stamp(now time.Time) []byte {
	if s := now.Unix(); s != c.sec || c.buf == nil {
		c.sec = s
		c.buf = now.AppendFormat(c.buf[:0], "15:04:05")
	}
	return c.buf
}

// render appends each line of p, prefixed, to dst. It makes room for all of
// them first: a busy process hands over 256 KiB at a time, and growing dst
// line by line would reallocate it a dozen times on the way there. The
// prefix is put together once, so each line costs two copies.
func render(dst []byte, p []byte, pre prefix, ts []byte) []byte {
	var stack [64]byte
	pfx := append(append(append(stack[:0], pre.head...), ts...), pre.tail...)
	lines := bytes.Count(p, newline)
	if len(p) > 0 && p[len(p)-1] != '\n' {
		lines++
	}
	w := len(dst)
	size := w + len(p) + lines*len(pfx)
	dst = slices.Grow(dst, size-w)[:size]
	for len(p) > 0 {
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line = p[:i+1]
		}
		w += copy(dst[w:], pfx)
		w += copy(dst[w:], line)
		p = p[len(line):]
	}
	return dst[:w]
}

// write writes b in one call unless an earlier write failed.
func (m *Mux) write(b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if _, err := m.w.Write(b); err != nil {
		m.err = err
		return err
	}
	return nil
}

// Lines returns the writer for one process. Its buffer belongs to the
// process's reader goroutine.
func (m *Mux) Lines(name string) runner.LineWriter {
	return &lineWriter{m: m, pre: m.prefixFor(name)}
}

type lineWriter struct {
	m     *Mux
	pre   prefix
	clock clock
	buf   []byte
}

func (l *lineWriter) WriteLines(p []byte) error {
	m := l.m
	if !m.opts.Prefix && !m.opts.Timestamp {
		return m.write(p)
	}
	var ts []byte
	if m.opts.Timestamp {
		ts = l.clock.stamp(m.opts.Now())
	}
	l.buf = render(l.buf[:0], p, l.pre, ts)
	err := m.write(l.buf)
	if cap(l.buf) > 1<<20 {
		l.buf = nil // do not keep a long line's memory
	}
	return err
}

// Line writes one line of ganger's own text under name (a process or
// SystemName). Control characters in it are escaped (see Escape): it may
// quote a file name or a value from the repository.
func (m *Mux) Line(name, text string) error {
	return m.line(name, Escape(text))
}

// line writes text, already escaped, under name.
func (m *Mux) line(name, text string) error {
	pre := m.prefixFor(name)
	var ts []byte
	if m.opts.Timestamp {
		ts = m.opts.Now().AppendFormat(nil, "15:04:05")
	}
	return m.write(render(nil, []byte(text+"\n"), pre, ts))
}

// Event renders a lifecycle event with foreman's wording (see EventLine).
func (m *Mux) Event(e runner.Event) error {
	if name, text, ok := EventLine(e); ok {
		return m.line(name, text)
	}
	return nil
}

// EventLine is the line a Mux shows for an event: the name it goes under
// (the process, or SystemName for ganger's own messages) and its text,
// escaped as Line escapes it. ok is false for an event that shows nothing.
func EventLine(e runner.Event) (name, text string, ok bool) {
	switch e.Kind {
	case runner.Started:
		name, text = e.Name, fmt.Sprintf("started with pid %d", e.PID)
	case runner.Exited:
		name, text = e.Name, DescribeExit(e.Code, e.Signal != 0, runner.SignalName(e.Signal))
	case runner.StartFailed:
		name, text = e.Name, fmt.Sprintf("failed to start: %v", e.Err)
	case runner.System:
		name, text = SystemName, e.Msg
	case runner.Ready:
		name, text = SystemName, DescribeReady(e)
	default:
		return "", "", false
	}
	return name, Escape(text), true
}

// DescribeReady words a Ready event: "web.1 ready in 1.3s on :5000".
func DescribeReady(e runner.Event) string {
	s := fmt.Sprintf("%s ready in %s", e.Name, roundElapsed(e.Elapsed))
	if e.Port > 0 {
		s += fmt.Sprintf(" on :%d", e.Port)
	}
	return s
}

// roundElapsed shows d to a tenth of a second, or in ms below one second.
func roundElapsed(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// DescribeExit words an exit: "exited with code 127 (command not found)",
// "terminated by SIGTERM".
func DescribeExit(code int, signalled bool, signal string) string {
	if signalled {
		return "terminated by " + signal
	}
	s := fmt.Sprintf("exited with code %d", code)
	switch code {
	case 126:
		s += " (command found but not executable)"
	case 127:
		s += " (command not found)"
	}
	return s
}
