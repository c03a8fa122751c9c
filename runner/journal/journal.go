package journal

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/logmux"
)

// The streams of a Record.
const (
	StreamOut    = "out"    // a line the process wrote
	StreamSystem = "system" // ganger's own text: an event, a notice
)

// Defaults and limits.
const (
	DefaultLines = 1000      // records kept per name
	DefaultBytes = 256 << 10 // bytes of text kept per name
	// MaxText is the longest text a record keeps; a longer line is cut.
	MaxText = 4 << 10
	// FollowQueue is how many records a follower may lag behind before
	// records are skipped for it.
	FollowQueue = 4096
)

// Record is one line of the journal. Its JSON form is the one "ganger logs
// --json" writes.
type Record struct {
	Time   time.Time `json:"time"`
	Name   string    `json:"name"`   // the process ("web.1"), or logmux.SystemName
	Stream string    `json:"stream"` // StreamOut or StreamSystem
	Text   string    `json:"text"`   // without its '\n'
}

// Options bound a Journal's memory.
type Options struct {
	Lines int // records kept per process (and for "system"); 0 means DefaultLines
	Bytes int // and at most this many bytes of text per process; 0 means DefaultBytes
}

// Journal keeps the last records of each process. It is safe for concurrent
// use.
type Journal struct {
	opts Options

	mu        sync.Mutex // guards the fields below
	seq       uint64     // of the last record
	rings     map[string]*ring
	followers map[*follower]struct{}
	closed    bool
	left      chan struct{} // a token when a Follow returns; capacity 1
}

// New returns an empty Journal.
func New(o Options) *Journal {
	if o.Lines <= 0 {
		o.Lines = DefaultLines
	}
	if o.Bytes <= 0 {
		o.Bytes = DefaultBytes
	}
	return &Journal{opts: o, rings: map[string]*ring{}, followers: map[*follower]struct{}{}, left: make(chan struct{}, 1)}
}

// entry is a batch: one or more lines recorded together (a chunk a
// process wrote, or one event's text), its first line's place in the
// journal's order. The lines are split and cut only when read (Tail,
// Follow): recording costs one copy of the chunk and one lock, not work per
// line, on the output's hot path.
type entry struct {
	seq    uint64 // of its first line; line i has seq+i
	at     time.Time
	name   string
	stream string
	text   string // its lines joined by '\n', without a last '\n'
	lines  int
	bytes  int // of text, newlines not counted
}

// records appends e's lines, from its i-th on, as records (cut to MaxText).
func (e *entry) records(dst []rec, from int) []rec {
	rest := e.text
	for i := 0; i < e.lines; i++ {
		line := rest
		if k := strings.IndexByte(rest, '\n'); k >= 0 {
			line, rest = rest[:k], rest[k+1:]
		}
		if i >= from {
			dst = append(dst, rec{seq: e.seq + uint64(i), Record: Record{Time: e.at, Name: e.name, Stream: e.stream, Text: cut(line)}})
		}
	}
	return dst
}

// head returns the batch of e's first n lines.
func (e entry) head(n int) entry {
	if n >= e.lines {
		return e
	}
	end := 0
	for range n {
		end += strings.IndexByte(e.text[end:], '\n') + 1
	}
	e.text, e.lines = e.text[:end-1], n
	e.bytes = len(e.text) - (n - 1)
	return e
}

// rec is one line read out of the journal, with its place in the order.
type rec struct {
	seq uint64
	Record
}

// Tee returns a runner.Sink that passes everything to s and records it: each
// line a process writes (cut to MaxText when read back, whole for s) and the
// text of each event as logmux.EventLine gives it. A line is recorded even
// when s fails to take it.
func (j *Journal) Tee(s runner.Sink) runner.Sink { return &tee{j: j, s: s} }

type tee struct {
	j *Journal
	s runner.Sink
}

func (t *tee) Lines(name string) runner.LineWriter {
	return &teeLines{j: t.j, name: name, w: t.s.Lines(name)}
}

func (t *tee) Event(e runner.Event) error {
	if name, text, ok := logmux.EventLine(e); ok {
		at := e.Time
		if at.IsZero() {
			at = time.Now()
		}
		t.j.add(entry{at: at, name: name, stream: StreamSystem, text: text, lines: 1, bytes: len(text)})
	}
	return t.s.Event(e)
}

// teeLines belongs to one process's reader goroutine.
type teeLines struct {
	j    *Journal
	name string
	w    runner.LineWriter
}

func (l *teeLines) WriteLines(p []byte) error {
	if n := len(p); n > 0 {
		lines := bytes.Count(p, newline)
		if p[n-1] != '\n' { // a last line without its '\n' (not from the runner)
			lines++
			n++
		}
		e := entry{at: time.Now(), name: l.name, stream: StreamOut, lines: lines, bytes: n - lines}
		if n-1 > l.j.opts.Bytes {
			e = compact(p, l.j.opts.Bytes)
			e.at, e.name, e.stream = time.Now(), l.name, StreamOut
		} else {
			e.text = string(p[:n-1])
		}
		l.j.add(e)
	}
	return l.w.WriteLines(p)
}

var newline = []byte{'\n'}

// compact returns the batch of a chunk larger than a ring can show: its
// last lines within max bytes (at least one), each cut to MaxText, copied so
// that the chunk is not kept.
func compact(p []byte, max int) entry {
	text := strings.TrimSuffix(string(p), "\n")
	all := strings.Split(text, "\n")
	var kept []string
	size := 0
	for i := len(all) - 1; i >= 0; i-- {
		line := cut(all[i])
		if len(kept) > 0 && size+len(line) > max {
			break
		}
		kept = append(kept, line)
		size += len(line)
	}
	slices.Reverse(kept)
	return entry{text: strings.Join(kept, "\n"), lines: len(kept), bytes: size}
}

// cut returns line, cut to MaxText bytes with a note of what was cut.
func cut(line string) string {
	if len(line) <= MaxText {
		return line
	}
	n := MaxText
	for n > MaxText-utf8.UTFMax && n > 0 && !utf8.RuneStart(line[n]) {
		n--
	}
	return line[:n] + " [… " + strconv.Itoa(len(line)-n) + " bytes cut]"
}

// add records e under its name, after every line recorded so far, and
// hands it to followers.
func (j *Journal) add(e entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.rings[e.name]
	if r == nil {
		r = &ring{}
		j.rings[e.name] = r
	}
	e.seq = j.seq + 1
	j.seq += uint64(e.lines)
	r.push(e, j.opts)
	for f := range j.followers {
		if !f.sel.has(e.name) {
			continue
		}
		room := FollowQueue - f.queued
		if room <= 0 {
			f.skipped += e.lines
			continue
		}
		b := e.head(room)
		f.queue = append(f.queue, b)
		f.queued += b.lines
		f.skipped += e.lines - b.lines
		f.wake()
	}
}

// Tail returns the last n records of the named processes (names such as
// "web.1", types such as "web"; none: every process and "system"), oldest
// first, in the order they were recorded across processes. n < 0 means every
// record kept.
func (j *Journal) Tail(names []string, n int) []Record {
	j.mu.Lock()
	rs := j.tail(selector(names), n)
	j.mu.Unlock()
	out := make([]Record, len(rs))
	for i, r := range rs {
		out[i] = r.Record
	}
	return out
}

// tail is Tail with j.mu held.
func (j *Journal) tail(sel selector, n int) []rec {
	if n == 0 {
		return nil
	}
	var rs []rec
	for name, r := range j.rings {
		if sel.has(name) {
			rs = r.appendLast(rs, n, j.opts)
		}
	}
	slices.SortFunc(rs, func(a, b rec) int { return compareSeq(a.seq, b.seq) })
	if n > 0 && len(rs) > n {
		rs = rs[len(rs)-n:]
	}
	return rs
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Follow calls send with Tail(names, n), then with every new record of the
// named processes, in order, until ctx ends (it returns ctx's error), send
// fails (it returns that error) or the journal is closed (it returns nil
// once everything recorded before has been sent). A follower that cannot
// keep up never slows the processes: records are skipped for it, and it is
// then sent a "system" record saying how many.
func (j *Journal) Follow(ctx context.Context, names []string, n int, send func(Record) error) error {
	f := &follower{sel: selector(names), woken: make(chan struct{}, 1)}
	j.mu.Lock()
	backlog := j.tail(f.sel, n)
	j.followers[f] = struct{}{}
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		delete(j.followers, f)
		j.mu.Unlock()
		select {
		case j.left <- struct{}{}:
		default:
		}
	}()
	var spare []entry
	for {
		for _, r := range backlog {
			if err := send(r.Record); err != nil {
				return err
			}
		}
		backlog = backlog[:0]
		select {
		case <-ctx.Done():
			return ctx.Err()
		default:
		}

		j.mu.Lock()
		queue := f.queue
		f.queue, f.queued = spare, 0
		skipped := f.skipped
		f.skipped = 0
		closed := j.closed
		j.mu.Unlock()
		for i := range queue {
			backlog = queue[i].records(backlog, 0)
		}
		clear(queue)
		spare = queue[:0]
		if skipped > 0 {
			backlog = append(backlog, rec{Record: Record{
				Time: time.Now(), Name: logmux.SystemName, Stream: StreamSystem,
				Text: fmt.Sprintf("%d lines skipped (the reader was too slow)", skipped),
			}})
		}
		if len(backlog) > 0 {
			continue
		}
		if closed {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.woken:
		}
	}
}

// Close ends every Follow, now and later, once it has sent what was
// recorded. Recording and Tail go on working.
func (j *Journal) Close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	for f := range j.followers {
		f.wake()
	}
}

// Drain waits until no Follow is running (after Close, once each has sent
// what was recorded), or until ctx ends, and returns ctx's error then. It
// is for one caller at a time.
func (j *Journal) Drain(ctx context.Context) error {
	for {
		j.mu.Lock()
		n := len(j.followers)
		j.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-j.left:
		}
	}
}

// WriteTail writes the last n records of name (a process) to w, one line
// each: "15:04:05 text".
func (j *Journal) WriteTail(name string, n int, w io.Writer) error {
	var b []byte
	for _, r := range j.Tail([]string{name}, n) {
		b = r.Time.AppendFormat(b, "15:04:05")
		b = append(b, ' ')
		b = append(b, r.Text...)
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}

// follower is one Follow's queue; its fields are guarded by the Journal's
// mutex.
type follower struct {
	sel     selector
	queue   []entry // batches, as recorded
	queued  int     // lines in queue, at most FollowQueue
	skipped int
	woken   chan struct{} // capacity 1
}

func (f *follower) wake() {
	select {
	case f.woken <- struct{}{}:
	default:
	}
}

// selector is a list of names and types; empty selects every name.
type selector []string

// has reports whether name is selected: named, or "web.N" when its type
// "web" is.
func (s selector) has(name string) bool {
	if len(s) == 0 {
		return true
	}
	typ := typeOf(name)
	for _, n := range s {
		if n == name || n == typ {
			return true
		}
	}
	return false
}

// typeOf is "web" for "web.1"; "" for a name without a numbered suffix.
func typeOf(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return ""
	}
	for _, c := range name[i+1:] {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return name[:i]
}

// ring is the last batches of one name. It keeps enough for its bounds:
// a batch is dropped once those after it hold Options.Lines lines or
// Options.Bytes bytes of text; what is shown of it (appendLast) is cut to
// the bounds exactly. It grows as needed and is circular.
type ring struct {
	buf   []entry
	head  int // of the oldest
	n     int
	lines int
	bytes int
}

func (r *ring) push(e entry, o Options) {
	r.lines += e.lines
	r.bytes += e.bytes
	for r.n > 0 {
		old := &r.buf[r.head]
		if r.lines-old.lines < o.Lines && r.bytes-old.bytes < o.Bytes {
			break
		}
		r.lines -= old.lines
		r.bytes -= old.bytes
		*old = entry{}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
}

// grow doubles the buffer and puts it in order.
func (r *ring) grow() {
	buf := make([]entry, max(16, 2*len(r.buf)))
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

// appendLast appends the last n lines (all when n < 0) within the bounds
// of o, oldest first: the longest run of the newest lines with at most
// o.Lines lines and o.Bytes bytes of text (the newest line at least).
func (r *ring) appendLast(dst []rec, n int, o Options) []rec {
	if n < 0 || n > o.Lines {
		n = o.Lines
	}
	// Walk back from the newest line to where the bounds stop: the oldest
	// line shown is line from of batch first.
	first, from := r.n, 0
	lines, size := 0, 0
walk:
	for i := r.n - 1; i >= 0 && lines < n; i-- {
		e := &r.buf[(r.head+i)%len(r.buf)]
		end := len(e.text)
		for k := e.lines - 1; k >= 0; k-- {
			start := strings.LastIndexByte(e.text[:end], '\n') + 1
			if lines > 0 && size+end-start > o.Bytes {
				break walk
			}
			size += end - start
			lines++
			first, from = i, k
			if lines == n {
				break walk
			}
			end = start - 1
		}
	}
	for i := first; i < r.n; i++ {
		dst = r.buf[(r.head+i)%len(r.buf)].records(dst, from)
		from = 0
	}
	return dst
}
