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

// entry is a record with its place in the journal's order.
type entry struct {
	seq uint64
	Record
}

// Tee returns a runner.Sink that passes everything to s and records it: each
// line a process writes (cut to MaxText in the journal, whole for s) and the
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
		t.j.add(name, StreamSystem, at, []string{text})
	}
	return t.s.Event(e)
}

// teeLines belongs to one process's reader goroutine.
type teeLines struct {
	j     *Journal
	name  string
	w     runner.LineWriter
	texts []string // reused
}

func (l *teeLines) WriteLines(p []byte) error {
	l.texts = l.texts[:0]
	for rest := p; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		l.texts = append(l.texts, cut(line))
	}
	l.j.add(l.name, StreamOut, time.Now(), l.texts)
	clear(l.texts) // let the strings go with their records
	return l.w.WriteLines(p)
}

// cut copies line, cut to MaxText bytes with a note of what was cut.
func cut(line []byte) string {
	if len(line) <= MaxText {
		return string(line)
	}
	n := MaxText
	for n > MaxText-utf8.UTFMax && n > 0 && !utf8.RuneStart(line[n]) {
		n--
	}
	return string(line[:n]) + " [… " + strconv.Itoa(len(line)-n) + " bytes cut]"
}

// add records texts under name, in order, and hands them to followers.
func (j *Journal) add(name, stream string, at time.Time, texts []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.rings[name]
	if r == nil {
		r = &ring{}
		j.rings[name] = r
	}
	first := j.seq + 1
	for _, text := range texts {
		j.seq++
		r.push(entry{seq: j.seq, Record: Record{Time: at, Name: name, Stream: stream, Text: text}}, j.opts)
	}
	for f := range j.followers {
		if !f.sel.has(name) {
			continue
		}
		for i, text := range texts {
			if len(f.queue) >= FollowQueue {
				f.skipped += len(texts) - i
				break
			}
			f.queue = append(f.queue, entry{seq: first + uint64(i), Record: Record{Time: at, Name: name, Stream: stream, Text: text}})
		}
		f.wake()
	}
}

// Tail returns the last n records of the named processes (names such as
// "web.1", types such as "web"; none: every process and "system"), oldest
// first, in the order they were recorded across processes. n < 0 means every
// record kept.
func (j *Journal) Tail(names []string, n int) []Record {
	j.mu.Lock()
	es := j.tail(selector(names), n)
	j.mu.Unlock()
	out := make([]Record, len(es))
	for i, e := range es {
		out[i] = e.Record
	}
	return out
}

// tail is Tail with j.mu held.
func (j *Journal) tail(sel selector, n int) []entry {
	if n == 0 {
		return nil
	}
	var es []entry
	for name, r := range j.rings {
		if sel.has(name) {
			es = r.appendLast(es, n)
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return compareSeq(a.seq, b.seq) })
	if n > 0 && len(es) > n {
		es = es[len(es)-n:]
	}
	return es
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
		for _, e := range backlog {
			if err := send(e.Record); err != nil {
				return err
			}
		}
		clear(backlog)
		spare = backlog[:0]
		select {
		case <-ctx.Done():
			return ctx.Err()
		default:
		}

		j.mu.Lock()
		backlog, f.queue = f.queue, spare
		skipped := f.skipped
		f.skipped = 0
		closed := j.closed
		j.mu.Unlock()
		if skipped > 0 {
			backlog = append(backlog, entry{Record: Record{
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
	queue   []entry
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

// ring is the last records of one name, bounded in count and bytes of
// text. It grows to its bound and is then circular.
type ring struct {
	buf   []entry
	head  int // of the oldest
	n     int
	bytes int
}

func (r *ring) push(e entry, o Options) {
	for r.n > 0 && (r.n >= o.Lines || r.bytes+len(e.Text) > o.Bytes) {
		r.pop()
	}
	if r.n == len(r.buf) {
		r.grow(o.Lines)
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
	r.bytes += len(e.Text)
}

func (r *ring) pop() {
	r.bytes -= len(r.buf[r.head].Text)
	r.buf[r.head] = entry{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
}

// grow doubles the buffer, up to limit entries, and puts it in order.
func (r *ring) grow(limit int) {
	size := min(max(16, 2*len(r.buf)), limit)
	buf := make([]entry, size)
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

// appendLast appends the last n entries (all when n < 0), oldest first.
func (r *ring) appendLast(dst []entry, n int) []entry {
	if n < 0 || n > r.n {
		n = r.n
	}
	for i := r.n - n; i < r.n; i++ {
		dst = append(dst, r.buf[(r.head+i)%len(r.buf)])
	}
	return dst
}
