package runner

import (
	"bytes"
	"io"
	"os"
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
	MaxLine = 32 << 20
)

// copyLines reads r until EOF or error and hands whole lines to w. A last line
// without a newline is delivered with one added. The first error from w is
// passed to failed at once (a child that stays alive without closing its
// output must not delay the shutdown a closed pipe asks for); after it the
// rest of r is read and discarded so the child never blocks.
//
// With bp set and r a file in Go's poller (a pipe; a terminal's reader is
// not), it holds no buffer while the process is quiet: the small buffer goes
// back to bp whenever every byte read has been handed on, and the next read
// takes one from bp only once data is waiting. Without, it keeps its own.
func copyLines(r io.Reader, bp *bufPool, w LineWriter, failed func(error)) {
	var wait func() ([]byte, int, error)
	if f, ok := r.(*os.File); ok && bp != nil {
		wait = pooledRead(f, bp)
	}
	var buf []byte
	// small returns a minRead buffer; drop lets go of one that is replaced
	// (the pool takes back only its own).
	small := func() []byte { return make([]byte, minRead) }
	drop := func([]byte) {}
	if wait != nil {
		small, drop = bp.get, bp.put
	} else {
		buf = small()
	}
	var werr error
	emit := func(p []byte) {
		if werr == nil {
			if werr = w.WriteLines(p); werr != nil {
				failed(werr)
			}
		}
	}
	n := 0         // bytes held in buf
	scanned := 0   // buf[:scanned] holds no '\n'
	split := false // a MaxLine piece was just emitted with an added '\n'
	quiet := 0     // consecutive small reads into a grown buffer
	for {
		var m int
		var err error
		if buf == nil {
			buf, m, err = wait()
			if buf == nil {
				return // closed before any data
			}
		} else {
			m, err = r.Read(buf[n:])
		}
		filled := m > 0 && m == len(buf)-n // more may be waiting: read more at once
		n += m
		if split && m > 0 {
			// The line ended exactly at the split: its own '\n' is already
			// delivered, so do not deliver an empty line after it.
			if buf[0] == '\n' {
				n = copy(buf, buf[1:n])
			}
			split = false
		}
		if i := bytes.LastIndexByte(buf[scanned:n], '\n'); i >= 0 {
			end := scanned + i + 1
			emit(buf[:end])
			n = copy(buf, buf[end:n])
			scanned = 0
		} else {
			scanned = n
		}
		if n == len(buf) {
			if len(buf) >= MaxLine {
				emit(append(buf[:n:n], '\n'))
				n, scanned = 0, 0
				split = true
			} else {
				grown := make([]byte, 2*len(buf))
				copy(grown, buf[:n])
				drop(buf)
				buf = grown
			}
		} else if filled && len(buf) < maxRead {
			grown := make([]byte, maxRead)
			copy(grown, buf[:n])
			drop(buf)
			buf, quiet = grown, 0
		} else if len(buf) > minRead && n <= minRead/2 && m < minRead/2 {
			// Quiet again: give the memory back, at once after a long line,
			// else after a run of small reads, so that a bursty writer does
			// not pay for regrowing the buffer at every burst.
			if quiet++; quiet >= shrinkAfter || len(buf) > maxRead {
				shrunk := small()
				copy(shrunk, buf[:n])
				buf, quiet = shrunk, 0
			}
		} else {
			quiet = 0
		}
		if err != nil {
			if n > 0 {
				emit(append(buf[:n:n], '\n'))
			}
			drop(buf)
			return
		}
		if wait != nil && n == 0 && len(buf) == minRead {
			bp.put(buf)
			buf = nil
		}
	}
}
