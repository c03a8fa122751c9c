package runner

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"sync"
	"syscall"
	"time"
)

const (
	// minRead is the read buffer a process starts with and goes back to when
	// quiet: most processes write little, and fifty idle ones should not
	// hold a large buffer each.
	minRead = 4 << 10
	// maxRead is what the buffer grows to, at once, when a read fills it:
	// the process writes a lot. Reads are then large, so that one write to
	// the Sink carries many lines: the Sink's cost is per call, not per
	// line. Growing in one step leaves one small buffer behind, not the six
	// of doubling, whose garbage cost a busy start a collection or two.
	maxRead = 256 << 10
	// shrinkAfter is how many small reads in a row give a grown buffer back.
	shrinkAfter = 8
	// MaxLine is the longest line delivered whole. A longer line is delivered
	// in MaxLine pieces, each ended with '\n'; no byte is lost.
	//
	// It bounds a reader's memory: a partial line is held until it ends, so
	// a process that never writes a newline makes its reader hold MaxLine
	// bytes (and a spare one, for the '\n' of a piece), never more, and
	// once the line ends the buffer goes back to maxRead at most. The Sink
	// may copy a piece once more to render it. 16 MiB keeps the README's
	// promise that a 10 MiB line arrives whole with room to spare; 32 MiB
	// doubled the memory of a process without newlines (a 1 MiB cap would
	// split the lines that promise covers).
	MaxLine = 16 << 20
)

// copyLines reads r until EOF or error and hands whole lines to w. A last line
// without a newline is delivered with one added. The first error from w is
// passed to failed at once (a child that stays alive without closing its
// output must not delay the shutdown a closed pipe asks for); after it the
// rest of r is read and discarded so the child never blocks.
//
// With bp set and r a file in Go's poller (a pipe, or a terminal on Linux), it
// holds no buffer while the process is quiet: the small buffer goes back to bp
// whenever every byte read has been handed on, and the next read takes one
// from bp only once data is waiting. Without, it keeps its own.
//
// With ctl set, other goroutines can ask the reader to catch up (see
// readCtl): ctl must then have been made for r. Nil makes one nobody asks.
func copyLines(r io.Reader, bp *bufPool, w LineWriter, failed func(error), ctl *readCtl) {
	newLineCopier(r, bp, w, failed, ctl).run()
}

// newLineCopier sets up copyLines's state (see copyLines).
func newLineCopier(r io.Reader, bp *bufPool, w LineWriter, failed func(error), ctl *readCtl) *lineCopier {
	if ctl == nil {
		ctl = newReadCtl(r)
	}
	c := &lineCopier{r: r, rc: ctl.rc, w: w, failed: failed, ctl: ctl}
	if ctl.f != nil {
		c.name, c.bp = ctl.f.Name(), bp
	}
	if c.bp == nil {
		c.buf = make([]byte, minRead)
	}
	return c
}

// run is copyLines's loop, on the reader's goroutine.
func (c *lineCopier) run() {
	for {
		m, err := c.read()
		if c.rc != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			if c.catchUp() {
				continue
			}
			c.drop()
			return
		}
		if c.consume(m, err) {
			return
		}
	}
}

// lineCopier is the state of one copyLines.
type lineCopier struct {
	r      io.Reader
	rc     syscall.RawConn // set when r is a file in Go's poller: raw reads
	name   string          // the file's, for errors
	bp     *bufPool        // set when small buffers come from the pool (needs rc)
	w      LineWriter
	failed func(error)
	ctl    *readCtl
	tap    *term // on a terminal: gets every byte read, before the lines are split

	buf     []byte // nil: none held (pooled, quiet)
	n       int    // bytes held in buf
	scanned int    // buf[:scanned] holds no '\n'
	split   bool   // a MaxLine piece was just emitted with an added '\n'
	long    bool   // the line in progress was split at MaxLine and goes on
	quiet   int    // consecutive small reads into a grown buffer
	werr    error  // the first error from w
}

func (c *lineCopier) emit(p []byte) {
	if c.werr == nil {
		if c.werr = c.w.WriteLines(p); c.werr != nil {
			c.failed(c.werr)
		}
	}
}

// small returns a minRead buffer.
func (c *lineCopier) small() []byte {
	if c.bp != nil {
		return c.bp.get()
	}
	return make([]byte, minRead)
}

// drop lets go of the buffer (the pool takes back only its own).
func (c *lineCopier) drop() {
	if c.bp != nil && c.buf != nil {
		c.bp.put(c.buf)
	}
	c.buf = nil
}

// read waits for data and reads it into buf after the n bytes held. With a
// raw file it waits without a buffer when it holds none.
func (c *lineCopier) read() (int, error) {
	if c.rc == nil {
		return c.r.Read(c.buf[c.n:])
	}
	var m int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		var again bool
		m, again, rerr = c.readNow(fd)
		return !again // nothing yet: wait in the poller
	})
	if err != nil {
		return 0, err
	}
	return m, rerr
}

// readNow makes one non-blocking read of fd into buf, taking a buffer from
// the pool first if it holds none (and giving it back if nothing was
// waiting). again reports that nothing was waiting.
func (c *lineCopier) readNow(fd uintptr) (m int, again bool, err error) {
	took := false
	if c.buf == nil {
		c.buf, took = c.small(), true
	}
	for {
		m, err = syscall.Read(int(fd), c.buf[c.n:])
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case errors.Is(err, syscall.EAGAIN):
		// Nothing waiting: wait without the buffer just taken, or without
		// the one a line over maxRead grew, if every byte is handed on (a
		// process that wrote a long line and went quiet).
		if took || (c.n == 0 && len(c.buf) > maxRead) {
			c.drop()
		}
		return 0, true, nil
	case err != nil:
		return 0, false, &os.PathError{Op: "read", Path: c.name, Err: err}
	case m == 0:
		return 0, false, io.EOF
	}
	return m, false, nil
}

// consume hands on the whole lines among the m bytes just read, sizes the
// buffer for what comes next, and at err (EOF or any other) delivers the
// last partial line. It reports whether the output has ended.
//
// It leaves fewer bytes held than the buffer holds, so that flush and a
// MaxLine piece can add their '\n' in place: the buffer is never copied to
// be handed on.
func (c *lineCopier) consume(m int, err error) (end bool) {
	if c.buf == nil {
		return err != nil // pooled: ended before any data
	}
	filled := m > 0 && m == len(c.buf)-c.n // more may be waiting: read more at once
	if c.tap != nil && m > 0 {
		c.tap.write(c.buf[c.n : c.n+m])
	}
	c.n += m
	if c.split && m > 0 {
		// The line ended exactly at the split: its own '\n' is already
		// delivered, so do not deliver an empty line after it.
		if c.buf[0] == '\n' {
			c.n = copy(c.buf, c.buf[1:c.n])
			c.long = false
		}
		c.split = false
	}
	if i := bytes.LastIndexByte(c.buf[c.scanned:c.n], '\n'); i >= 0 {
		end := c.scanned + i + 1
		c.emit(c.buf[:end])
		c.n = copy(c.buf, c.buf[end:c.n])
		c.scanned = 0
		c.long = false
	} else {
		c.scanned = c.n
	}
	switch {
	case c.n == len(c.buf) && len(c.buf) >= MaxLine:
		// One line fills MaxLine: deliver it as a line of its own, with
		// the '\n' in the buffer's spare byte, and keep the buffer for
		// the rest of the line.
		c.emit(append(c.buf[:c.n], '\n'))
		c.n, c.scanned = 0, 0
		c.split, c.long = true, true
	case c.n == len(c.buf):
		c.resize(min(2*len(c.buf), MaxLine))
	case filled && len(c.buf) < maxRead:
		c.resize(maxRead)
		c.quiet = 0
	case len(c.buf) > maxRead && !c.long && c.n <= maxRead/2:
		// A line longer than maxRead has ended: give its memory back at
		// once, though the process goes on writing.
		c.resize(maxRead)
		c.quiet = 0
	case len(c.buf) > minRead && c.n <= minRead/2 && m < minRead/2:
		// Quiet again: give the memory back, after a run of small reads,
		// so that a bursty writer does not pay for regrowing the buffer
		// at every burst.
		if c.quiet++; c.quiet >= shrinkAfter {
			shrunk := c.small()
			copy(shrunk, c.buf[:c.n])
			c.buf, c.quiet = shrunk, 0
		}
	default:
		c.quiet = 0
	}
	if err != nil {
		c.flush()
		c.drop()
		return true
	}
	c.idle()
	return false
}

// resize moves the n bytes held to a new buffer of size bytes (and a spare
// one, for a '\n'), letting go of the old one.
func (c *lineCopier) resize(size int) {
	b := make([]byte, size, size+1)
	copy(b, c.buf[:c.n])
	c.drop()
	c.buf = b
}

// flush delivers a partial line held, with a '\n' added in place (consume
// leaves room for it).
func (c *lineCopier) flush() {
	if c.n > 0 {
		c.emit(append(c.buf[:c.n], '\n'))
		c.n, c.scanned = 0, 0
	}
}

// idle gives a small pooled buffer back once every byte read is handed on.
func (c *lineCopier) idle() {
	if c.bp != nil && c.n == 0 && len(c.buf) == minRead {
		c.drop()
	}
}

// catchUp answers the requests of ctl, whose deadline has just interrupted
// a read: it reads out, without waiting, what the pipe holds and hands it on
// with the last partial line, then calls back or stops. It reads at most what
// the pipe held when it began (at least one read), so that a descendant that
// never stops writing cannot keep it from answering. It reports whether to
// read on.
func (c *lineCopier) catchUp() bool {
	then, stop := c.ctl.take()
	if then == nil && !stop {
		return true // woken for requests already answered
	}
	left := c.waiting()
	// With nobody left writing, reading to the end is bounded by what was
	// written, and the only way to have every byte: a terminal may not
	// count its last bytes yet. Else at most what is waiting now is read,
	// so that a stray descendant still writing cannot hold the caller.
	toEnd := false
	c.rc.Control(func(fd uintptr) { toEnd = hungUp(fd) })
	for {
		var m int
		var again bool
		var err error
		if cerr := c.rc.Control(func(fd uintptr) { m, again, err = c.readNow(fd) }); cerr != nil {
			err = cerr
		}
		if again {
			break
		}
		if c.consume(m, err) {
			// The output has ended: the reader's return says so.
			return false
		}
		if left -= m; left <= 0 && !toEnd {
			break
		}
	}
	c.flush()
	c.idle()
	if then != nil {
		then()
	}
	return !stop
}

// waiting returns how many bytes the file holds for reading, or
// math.MaxInt (no bound) when the system cannot tell.
func (c *lineCopier) waiting() int {
	n := -1
	c.rc.Control(func(fd uintptr) { n = readable(fd) })
	if n < 0 {
		return math.MaxInt
	}
	return n
}

// pollFile returns the file behind r, and its raw connection, when r is a
// pipe or a terminal that Go's poller waits on (so that reads can be made
// without a buffer until data is waiting, and a read deadline interrupts a
// wait), else nils.
func pollFile(r io.Reader) (*os.File, syscall.RawConn) {
	var f *os.File
	switch v := r.(type) {
	case *os.File:
		f = v
	case ptyReader:
		f = v.File
	default:
		return nil, nil
	}
	// A file outside the poller has no deadlines.
	if f.SetReadDeadline(time.Time{}) != nil {
		return nil, nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil
	}
	return f, rc
}

// readCtl lets other goroutines ask a process's output reader to catch up:
// to hand on everything its pipe holds now, with a last partial line, and
// then to call back (the leader has exited: report it) or to return (the run
// is over). A reader waiting on an empty pipe is woken by a read deadline in
// the past, the way net/http interrupts a read; only the reader clears it,
// before it takes the requests, so that none is missed.
type readCtl struct {
	f    *os.File        // the reader's file; nil when its reads cannot be interrupted
	rc   syscall.RawConn // f's
	done chan struct{}   // closed once the reader has returned

	mu   sync.Mutex
	then func() // called by the reader once it has caught up
	stop bool   // the reader returns once it has caught up
}

func newReadCtl(r io.Reader) *readCtl {
	f, rc := pollFile(r)
	return &readCtl{f: f, rc: rc, done: make(chan struct{})}
}

// catchUp asks the reader to catch up, then to call then. It reports false,
// and then is never called, when the reader cannot be asked (a terminal off
// Linux, whose reads block in the system).
func (c *readCtl) catchUp(then func()) bool {
	if c.f == nil {
		return false
	}
	c.mu.Lock()
	c.then = then
	c.mu.Unlock()
	c.wake()
	return true
}

// finish asks the reader to catch up, then to return. It reports false when
// the reader cannot be asked.
func (c *readCtl) finish() bool {
	if c.f == nil {
		return false
	}
	c.mu.Lock()
	c.stop = true
	c.mu.Unlock()
	c.wake()
	return true
}

// wake makes the reader's current or next read fail with
// os.ErrDeadlineExceeded. The file may be closed already: the reader has
// then returned, and there is nothing to ask.
func (c *readCtl) wake() { c.f.SetReadDeadline(time.Unix(1, 0)) }

// take clears the deadline and returns the requests, on the reader's
// goroutine.
func (c *readCtl) take() (then func(), stop bool) {
	c.f.SetReadDeadline(time.Time{})
	c.mu.Lock()
	defer c.mu.Unlock()
	then, c.then = c.then, nil
	return then, c.stop
}

// ended reports whether the reader has returned.
func (c *readCtl) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
