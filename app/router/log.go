package router

import (
	"strconv"
	"sync"
	"time"
)

// LineWriter takes log lines: one or more whole lines, each ending '\n'.
// The router never calls it concurrently, and reuses p once it returns.
type LineWriter interface{ WriteLines(p []byte) error }

// code is a platform error code; 0 is none.
type code uint8

const (
	h10 code = iota + 1
	h12
	h13
	h14
	h18
	h20
	h21
	h27
	badRequest // a request the router could not read, or a bad body or upgrade
)

func (c code) id() string {
	switch c {
	case h10:
		return "H10"
	case h12:
		return "H12"
	case h13:
		return "H13"
	case h14:
		return "H14"
	case h18:
		return "H18"
	case h20:
		return "H20"
	case h21:
		return "H21"
	case h27:
		return "H27"
	}
	return ""
}

func (c code) desc() string {
	switch c {
	case h10:
		return "App crashed"
	case h12:
		return "Request timeout"
	case h13:
		return "Connection closed without response"
	case h14:
		return "No web processes running"
	case h18:
		return "Server Request Interrupted"
	case h20:
		return "App boot timeout"
	case h21:
		return "Backend connection refused"
	case h27:
		return "Client Request Interrupted"
	case badRequest:
		return "Bad request"
	}
	return ""
}

// entry is what one log line says.
type entry struct {
	code                                     code
	method, path, host, requestID, fwd, dyno string
	connect, service                         time.Duration // < 0: not measured, left empty
	status                                   int
	bytes                                    int64
}

// appendEntry appends e's line in the platform's key=value form.
func appendEntry(b []byte, e *entry) []byte {
	if e.code == 0 {
		b = append(b, "at=info"...)
	} else {
		b = append(b, "at=error"...)
		if id := e.code.id(); id != "" {
			b = append(b, " code="...)
			b = append(b, id...)
		}
		b = append(b, " desc="...)
		b = appendQuoted(b, e.code.desc())
	}
	b = append(b, " method="...)
	b = appendBare(b, e.method)
	b = append(b, " path="...)
	b = appendQuoted(b, e.path)
	b = append(b, " host="...)
	b = appendBare(b, e.host)
	b = append(b, " request_id="...)
	b = appendBare(b, e.requestID)
	b = append(b, " fwd="...)
	b = appendQuoted(b, e.fwd)
	b = append(b, " dyno="...)
	b = appendBare(b, e.dyno)
	b = append(b, " connect="...)
	b = appendMillis(b, e.connect)
	b = append(b, " service="...)
	b = appendMillis(b, e.service)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, e.bytes, 10)
	b = append(b, " protocol=http\n"...)
	return b
}

func appendMillis(b []byte, d time.Duration) []byte {
	if d < 0 {
		return b
	}
	b = strconv.AppendInt(b, d.Milliseconds(), 10)
	return append(b, "ms"...)
}

// plain reports whether c can stand in a line as it is: printable ASCII,
// no space, quote or backslash.
func plain(c byte) bool { return c > ' ' && c < 0x7f && c != '"' && c != '\\' }

// appendBare appends s as it is when every byte is plain, else quoted.
func appendBare(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plain(s[i]) {
			return appendQuoted(b, s)
		}
	}
	return append(b, s...)
}

// appendQuoted appends s in double quotes, with quotes and backslashes
// escaped and every byte outside printable ASCII written as \xNN, so that
// nothing in s can end or break the line.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < ' ' || c >= 0x7f:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// maxPending is how far the log writer may fall behind before lines are
// dropped (and counted).
const maxPending = 1 << 20

// lineLog hands lines to a LineWriter. While Serve runs, lines collect in
// a buffer that one goroutine, woken through a channel, swaps out and
// writes in one call; otherwise each line is written as it comes. A second
// mutex around WriteLines keeps calls from ever overlapping, also while
// the goroutine stops, and keeps lines in order.
type lineLog struct {
	w LineWriter // nil: no log

	mu      sync.Mutex
	running bool   // a flusher takes the lines
	buf     []byte // lines waiting for the flusher
	dropped int64  // lines dropped since the last batch
	wake    chan struct{}

	wmu sync.Mutex // held around WriteLines
	one []byte     // the line being written when no flusher runs

	lmu     sync.Mutex // serialises start and stop
	serving int        // Serve calls running
	stop    chan struct{}
	done    chan struct{}
}

func newLineLog(w LineWriter) *lineLog {
	return &lineLog{w: w, wake: make(chan struct{}, 1)}
}

// add logs e.
func (l *lineLog) add(e *entry) {
	if l.w == nil {
		return
	}
	var a [512]byte
	line := appendEntry(a[:0], e)

	l.mu.Lock()
	if l.running {
		if len(l.buf)+len(line) > maxPending {
			l.dropped++
			l.mu.Unlock()
			return
		}
		wasEmpty := len(l.buf) == 0
		l.buf = append(l.buf, line...)
		l.mu.Unlock()
		if wasEmpty {
			select {
			case l.wake <- struct{}{}:
			default:
			}
		}
		return
	}
	l.wmu.Lock()
	l.mu.Unlock()
	l.one = append(l.one[:0], line...)
	_ = l.w.WriteLines(l.one) // a log that fails has nowhere to say so
	l.wmu.Unlock()
}

// start starts the flusher (for the first Serve) and returns the function
// that stops it (at the end of the last), once every line taken is written.
func (l *lineLog) start() (stop func()) {
	if l.w == nil {
		return func() {}
	}
	l.lmu.Lock()
	defer l.lmu.Unlock()
	l.serving++
	if l.serving == 1 {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		l.mu.Lock()
		l.running = true
		l.mu.Unlock()
		go l.run(l.stop, l.done)
	}
	return func() {
		l.lmu.Lock()
		defer l.lmu.Unlock()
		l.serving--
		if l.serving == 0 {
			close(l.stop)
			<-l.done
		}
	}
}

// run is the flusher: it writes what collected each time it is woken, and
// once more when stopped.
func (l *lineLog) run(stop, done chan struct{}) {
	defer close(done)
	var spare []byte
	for {
		final := false
		select {
		case <-l.wake:
		case <-stop:
			final = true
		}
		l.mu.Lock()
		out := l.buf
		l.buf = spare[:0]
		if l.dropped > 0 {
			out = append(out, `at=error code=L10 desc="Router log buffer overflow" dropped=`...)
			out = strconv.AppendInt(out, l.dropped, 10)
			out = append(out, '\n')
			l.dropped = 0
		}
		if final {
			l.running = false
		}
		l.wmu.Lock()
		l.mu.Unlock()
		if len(out) > 0 {
			_ = l.w.WriteLines(out) // a log that fails has nowhere to say so
		}
		l.wmu.Unlock()
		if final {
			return
		}
		spare = out
		if cap(spare) > maxPending {
			spare = nil // a burst's buffer is not kept
		}
	}
}
