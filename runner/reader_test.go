//go:build linux

package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// callRecorder is a LineWriter that keeps a copy of each call.
type callRecorder struct {
	calls [][]byte
	err   error // returned by every call when set
}

func (c *callRecorder) WriteLines(p []byte) error {
	c.calls = append(c.calls, bytes.Clone(p))
	clear(p) // WriteLines must not retain p: scribble over it
	return c.err
}

func (c *callRecorder) joined() []byte { return bytes.Join(c.calls, nil) }

// chunkReader returns data in reads of the given sizes, cycling.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := r.sizes[r.i%len(r.sizes)]
	r.i++
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// checkWhole checks that every call is non-empty whole lines.
func checkWhole(t *testing.T, calls [][]byte) {
	t.Helper()
	for i, c := range calls {
		if len(c) == 0 || c[len(c)-1] != '\n' {
			t.Fatalf("call %d = %.40q...: want whole lines ending in '\\n'", i, c)
		}
	}
}

func TestCopyLines(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 600<<10/16) // 600 KiB: more than maxRead
	tests := []struct {
		name  string
		in    string
		sizes []int
		want  string
		calls []string // when set, exactly these calls
	}{
		{"empty", "", []int{1}, "", []string{}},
		{"lines in one read are one call", "a\nb\nc\n", []int{100}, "a\nb\nc\n", []string{"a\nb\nc\n"}},
		{"byte by byte", "ab\ncd\n", []int{1}, "ab\ncd\n", []string{"ab\n", "cd\n"}},
		{"line split across reads", "abc\ndef\n", []int{2, 3}, "abc\ndef\n", []string{"abc\n", "def\n"}},
		{"last line without newline", "x\ny", []int{100}, "x\ny\n", []string{"x\n", "y\n"}},
		{"only a partial line", "prompt> ", []int{3}, "prompt> \n", []string{"prompt> \n"}},
		{"empty lines", "\n\n\n", []int{1}, "\n\n\n", nil},
		{"invalid UTF-8, escapes, NUL and CR pass unchanged",
			"\xff\xfe\xc3\x28\n\x1b[31mred\x1b[0m\r\n\x00bin\x07\n", []int{5},
			"\xff\xfe\xc3\x28\n\x1b[31mred\x1b[0m\r\n\x00bin\x07\n", nil},
		{"long line in small reads", "a\n" + long + "\nb\n", []int{4096}, "a\n" + long + "\nb\n", nil},
		{"long line in one read", long + "\n", []int{1 << 30}, long + "\n", []string{long + "\n"}},
		{"long line without newline", long, []int{65536}, long + "\n", []string{long + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w callRecorder
			copyLines(&chunkReader{data: []byte(tt.in), sizes: tt.sizes}, nil, &w, func(err error) {
				t.Errorf("failed(%v) called with a writer that never fails", err)
			}, nil)
			checkWhole(t, w.calls)
			if got := w.joined(); string(got) != tt.want {
				t.Fatalf("delivered %.60q... (%d bytes), want %.60q... (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
			if tt.calls != nil {
				if len(w.calls) != len(tt.calls) {
					t.Fatalf("%d calls, want %d", len(w.calls), len(tt.calls))
				}
				for i := range tt.calls {
					if string(w.calls[i]) != tt.calls[i] {
						t.Errorf("call %d = %.60q, want %.60q", i, w.calls[i], tt.calls[i])
					}
				}
			}
			// A long line is never split below MaxLine.
			if strings.Contains(tt.in, long) {
				found := false
				for _, c := range w.calls {
					found = found || bytes.Contains(c, []byte(long))
				}
				if !found {
					t.Error("the long line was split between calls")
				}
			}
		})
	}
}

func TestCopyLinesMaxLine(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates several times MaxLine")
	}
	in := append(bytes.Repeat([]byte{'x'}, MaxLine+10), "\nnext\n"...)
	var w callRecorder
	copyLines(bytes.NewReader(in), nil, &w, func(err error) { t.Errorf("failed(%v)", err) }, nil)
	checkWhole(t, w.calls)
	if len(w.calls) < 2 || len(w.calls[0]) != MaxLine+1 {
		t.Fatalf("first call has %d bytes, want a MaxLine piece (%d) plus '\\n'", len(w.calls[0]), MaxLine+1)
	}
	want := append(bytes.Repeat([]byte{'x'}, MaxLine), '\n')
	want = append(want, "xxxxxxxxxx\nnext\n"...)
	if !bytes.Equal(w.joined(), want) {
		t.Fatalf("a line over MaxLine: got %d bytes, want the %d input bytes with one '\\n' added after MaxLine", len(w.joined()), len(want))
	}
}

// A line of exactly MaxLine bytes is delivered once, without an empty line
// after it.
func TestCopyLinesExactlyMaxLine(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates several times MaxLine")
	}
	in := append(bytes.Repeat([]byte{'x'}, MaxLine), "\nnext\n"...)
	var w callRecorder
	copyLines(bytes.NewReader(in), nil, &w, func(err error) { t.Errorf("failed(%v)", err) }, nil)
	if got := w.joined(); !bytes.Equal(got, in) {
		t.Fatalf("got %d bytes, want the %d input bytes unchanged (no empty line after the split)", len(got), len(in))
	}
}

// A failing writer is reported at once, while the child is still writing,
// and the rest of the output is read and discarded so the child never blocks.
func TestCopyLinesWriterError(t *testing.T) {
	errBroken := errors.New("broken pipe")
	pr, pw := io.Pipe()
	w := callRecorder{err: errBroken}
	failed := make(chan error, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyLines(pr, nil, &w, func(err error) { failed <- err }, nil)
	}()
	if _, err := pw.Write([]byte("first\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if !errors.Is(err, errBroken) {
			t.Fatalf("failed(%v), want %v", err, errBroken)
		}
	case <-time.After(deadlineCopy):
		t.Fatal("the write error was not reported while the output stayed open")
	}
	// The child keeps writing: every write must complete.
	wrote := make(chan error, 1)
	go func() {
		chunk := bytes.Repeat([]byte("more output\n"), 1000)
		for range 100 {
			if _, err := pw.Write(chunk); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- pw.Close()
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(deadlineCopy):
		t.Fatal("output after the error was not drained: the child would block")
	}
	select {
	case <-done:
	case <-time.After(deadlineCopy):
		t.Fatal("copyLines did not return at EOF")
	}
	if len(w.calls) != 1 || len(failed) != 0 {
		t.Errorf("WriteLines called %d times and failed %d more times after the first error, want 1 and 0", len(w.calls), len(failed))
	}
}

const deadlineCopy = 30 * time.Second

// FuzzCopyLines: whatever the data and however it is chunked, copyLines
// delivers whole lines and every byte, in order, adding only a final '\n'.
func FuzzCopyLines(f *testing.F) {
	f.Add([]byte(""), uint16(1))
	f.Add([]byte("a\nb\nc\n"), uint16(1))
	f.Add([]byte("a\nb\nc"), uint16(2))
	f.Add([]byte("\n\n\n"), uint16(3))
	f.Add([]byte("no newline at all"), uint16(4))
	f.Add([]byte("\xff\x1b[0m\r\n\x00"), uint16(7))
	f.Add(bytes.Repeat([]byte("0123456789\n"), 10000), uint16(65535))
	f.Add(bytes.Repeat([]byte("y"), 200<<10), uint16(1000))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		// Read sizes vary from 1 to chunk+1.
		sizes := []int{int(chunk)/3 + 1, 1, int(chunk) + 1, int(chunk)/2 + 1}
		var w callRecorder
		copyLines(&chunkReader{data: data, sizes: sizes}, nil, &w, func(err error) { t.Fatalf("failed(%v)", err) }, nil)
		checkWhole(t, w.calls)
		want := data
		if len(data) > 0 && data[len(data)-1] != '\n' {
			want = append(bytes.Clone(data), '\n')
		}
		if got := w.joined(); !bytes.Equal(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
	})
}

// chanRecorder sends a copy of each call, with the capacity of the buffer it
// came in, on a channel.
type chanRecorder struct {
	calls chan recorded
	bp    *bufPool
}

type recorded struct {
	p    []byte
	cap  int
	held int32 // pool buffers taken and not given back, during the call
}

func (c chanRecorder) WriteLines(p []byte) error {
	c.calls <- recorded{bytes.Clone(p), cap(p), c.bp.held.Load()}
	clear(p)
	return nil
}

// A pipe read through the pool: quiet reads hold no buffer, a partial line
// keeps its buffer until the line ends, a burst grows the buffer, and every
// byte arrives in order.
func TestCopyLinesPooled(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var bp bufPool
	rec := chanRecorder{calls: make(chan recorded, 1000), bp: &bp}
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyLines(pr, &bp, rec, func(err error) { t.Errorf("failed(%v)", err) }, nil)
	}()
	write := func(s string) {
		t.Helper()
		if _, err := pw.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	next := func() recorded {
		t.Helper()
		select {
		case r := <-rec.calls:
			return r
		case <-time.After(deadlineCopy):
			t.Fatal("no lines delivered")
		}
		return recorded{}
	}
	var got bytes.Buffer
	write("a\n")
	if r := next(); string(r.p) != "a\n" || r.cap != minRead {
		t.Fatalf("got %q in a buffer of %d, want \"a\\n\" in a pooled one of %d", r.p, r.cap, minRead)
	}
	got.WriteString("a\n")
	write("partial")
	write(" end\nb\n")
	// The two writes may come in one read or two: the partial line is kept
	// either way.
	// Each call's buffer is the one pool buffer out: the last one came back
	// before this read took one.
	for got.Len() < len("a\npartial end\nb\n") {
		r := next()
		if r.held != 1 {
			t.Fatalf("%d pool buffers out during a call, want 1: the previous one was not given back", r.held)
		}
		got.Write(r.p)
	}
	burst := strings.Repeat(strings.Repeat("x", 99)+"\n", 2000)
	write(burst + "z\n")
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(deadlineCopy):
		t.Fatal("copyLines did not return at EOF")
	}
	close(rec.calls)
	for r := range rec.calls {
		got.Write(r.p)
	}
	if want := "a\npartial end\nb\n" + burst + "z\n"; got.String() != want {
		t.Fatalf("got %d bytes, want %d: %.60q", got.Len(), len(want), got.String())
	}
	if h := bp.held.Load(); h != 0 {
		t.Fatalf("%d pool buffers still out after EOF, want 0", h)
	}
}

// A pipe closed before any data ends the pooled reader without a call.
func TestCopyLinesPooledEmpty(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	pw.Close()
	var bp bufPool
	var w callRecorder
	copyLines(pr, &bp, &w, func(err error) { t.Errorf("failed(%v)", err) }, nil)
	if len(w.calls) != 0 || bp.held.Load() != 0 {
		t.Fatalf("got %d calls and %d pool buffers out, want none", len(w.calls), bp.held.Load())
	}
}

// Asked to catch up, a reader hands on everything the pipe holds, the
// partial line included, before it calls back, though the writer keeps the
// pipe open; it then reads on. Asked to finish, it hands on what is left and
// returns without waiting for the end of the output.
func TestCopyLinesCatchUp(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	ctl := newReadCtl(pr)
	if ctl.f == nil {
		t.Fatal("the reader of a pipe cannot be interrupted")
	}
	var bp bufPool
	rec := chanRecorder{calls: make(chan recorded, 1000), bp: &bp}
	go func() {
		defer close(ctl.done)
		copyLines(pr, &bp, rec, func(err error) { t.Errorf("failed(%v)", err) }, ctl)
	}()
	write := func(s string) {
		t.Helper()
		if _, err := pw.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	// delivered takes every call made so far.
	delivered := func() string {
		var b strings.Builder
		for {
			select {
			case r := <-rec.calls:
				b.Write(r.p)
			default:
				return b.String()
			}
		}
	}
	wait := func(what string, c <-chan struct{}) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(deadlineCopy):
			t.Fatalf("%s: timed out", what)
		}
	}

	// More than a pipe holds, so that the reader has been reading while
	// the write went on, and more than the buffer grows to at once, so that
	// catching up may take several reads; then a line without its end.
	burst := strings.Repeat(strings.Repeat("y", 99)+"\n", 5000)
	write(burst + "partial")
	caught := make(chan struct{})
	if !ctl.catchUp(func() { close(caught) }) {
		t.Fatal("catchUp refused for a pipe")
	}
	wait("catching up", caught)
	if got, want := delivered(), burst+"partial\n"; got != want {
		t.Fatalf("caught up with %d bytes delivered, want %d", len(got), len(want))
	}
	if h := bp.held.Load(); h != 0 {
		t.Errorf("%d pool buffers out after catching up, want 0", h)
	}

	// The reader reads on.
	write("more\n")
	select {
	case r := <-rec.calls:
		if string(r.p) != "more\n" {
			t.Fatalf("got %q after catching up, want \"more\\n\"", r.p)
		}
	case <-time.After(deadlineCopy):
		t.Fatal("the reader stopped after catching up")
	}

	write("one\ntail")
	if !ctl.finish() {
		t.Fatal("finish refused for a pipe")
	}
	wait("finishing with the pipe still open", ctl.done)
	if got := delivered(); got != "one\ntail\n" {
		t.Errorf("finish delivered %q, want \"one\\ntail\\n\"", got)
	}
	if h := bp.held.Load(); h != 0 {
		t.Errorf("%d pool buffers out after finishing, want 0", h)
	}
}

// A reader asked to finish returns though a writer never stops writing: it
// reads what the pipe held when asked, not what comes after.
func TestCopyLinesFinishEndlessWriter(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	ctl := newReadCtl(pr)
	if ctl.f == nil {
		t.Fatal("the reader of a pipe cannot be interrupted")
	}
	var bp bufPool
	lines := make(chan struct{}, 1)
	w := lineFunc(func(p []byte) error {
		select {
		case lines <- struct{}{}:
		default:
		}
		return nil
	})
	go func() {
		defer close(ctl.done)
		copyLines(pr, &bp, w, func(err error) { t.Errorf("failed(%v)", err) }, ctl)
	}()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		chunk := bytes.Repeat([]byte("flood\n"), 1000)
		for {
			if _, err := pw.Write(chunk); err != nil {
				return // the reader has closed its end
			}
		}
	}()
	select {
	case <-lines:
	case <-time.After(deadlineCopy):
		t.Fatal("nothing delivered")
	}
	ctl.finish()
	select {
	case <-ctl.done:
	case <-time.After(deadlineCopy):
		t.Fatal("a reader asked to finish kept reading an endless writer")
	}
	pr.Close()
	<-wrote
}

func init() {
	// noline LONG TAIL: write one line of LONG bytes of stampText without
	// its newline for all that time, then the newline, then TAIL bytes of
	// stamped 64-byte lines in writes of 64 KiB and 13 bytes (most end
	// mid-line), and exit 0.
	helpers["noline"] = func(args []string) int {
		buf := make([]byte, 1<<20)
		write := func(r io.Reader) int {
			for {
				n, err := io.ReadFull(r, buf)
				if n > 0 {
					if _, werr := os.Stdout.Write(buf[:n]); werr != nil {
						return 1
					}
				}
				if err != nil {
					return 0
				}
			}
		}
		if write(io.LimitReader(&stampText{}, int64(atoi(args[0])))) != 0 {
			return 1
		}
		if _, err := os.Stdout.WriteString("\n"); err != nil {
			return 1
		}
		buf = buf[:64<<10+13]
		return write(io.LimitReader(&stampText{nl: true}, int64(atoi(args[1]))))
	}
}

// stampText is endless text in blocks of 4 KiB, or with nl of 64 bytes
// ending in '\n' (lines), each starting with its own offset in hex, so that
// a lost, repeated or moved piece shows.
type stampText struct {
	nl  bool
	off int64
	blk []byte
}

func (s *stampText) Read(p []byte) (int, error) {
	if s.blk == nil {
		size, end := 4096, byte(' ')
		if s.nl {
			size, end = 64, '\n'
		}
		s.blk = bytes.Repeat([]byte{'.'}, size)
		s.blk[size-1] = end
	}
	const digits = "0123456789abcdef"
	size := int64(len(s.blk))
	n := 0
	for n < len(p) {
		start := s.off - s.off%size
		for i := range 16 {
			s.blk[i] = digits[(start>>(60-4*i))&15]
		}
		k := copy(p[n:], s.blk[s.off-start:])
		n += k
		s.off += int64(k)
	}
	return n, nil
}

// boundSink checks what a process's reader hands on against want, and
// the reader's memory during each call, from its own bookkeeping.
type boundSink struct {
	c       *lineCopier
	want    io.Reader // the output expected, in order
	scratch []byte
	longEnd int // where the long line ends in the output
	margin  int // how far after longEnd the buffer must be back to maxRead

	got     int   // bytes received
	peak    int   // most memory the reader held during a call
	checked int   // calls after longEnd+margin
	err     error // the first problem
}

func (s *boundSink) WriteLines(p []byte) error {
	c := s.c
	// The reader holds its buffer, and p too if p is not in it (a copy).
	held := cap(c.buf)
	if len(c.buf) == 0 || &p[0] != &c.buf[0] {
		held += cap(p)
	}
	s.peak = max(s.peak, held)
	switch {
	case len(p) == 0 || p[len(p)-1] != '\n':
		s.err = fmt.Errorf("call at byte %d: %d bytes not ending in '\\n'", s.got, len(p))
	case len(p) > MaxLine+1:
		s.err = fmt.Errorf("call at byte %d: %d bytes, over MaxLine (%d) and its '\\n'", s.got, len(p), MaxLine)
	case held > MaxLine+1:
		s.err = fmt.Errorf("call at byte %d: the reader holds %d bytes (its buffer %d), over MaxLine (%d) and a spare byte", s.got, held, cap(c.buf), MaxLine)
	}
	if s.err == nil {
		want := s.scratch[:len(p)]
		if _, err := io.ReadFull(s.want, want); err != nil || !bytes.Equal(p, want) {
			s.err = fmt.Errorf("call at byte %d: got %.40q..., want %.40q... (%v)", s.got, p, want, err)
		}
	}
	s.got += len(p)
	if s.err == nil && s.got > s.longEnd+s.margin {
		s.checked++
		if cap(c.buf) > maxRead+1 {
			s.err = fmt.Errorf("call at byte %d, %d bytes after the long line ended: the reader still holds a buffer of %d bytes, want at most maxRead (%d)",
				s.got, s.got-s.longEnd, cap(c.buf), maxRead)
		}
	}
	return s.err
}

// Once a line longer than maxRead has ended, its buffer is given back at
// once, though the process goes on writing in large reads that leave a
// partial line held (it used to be kept until reads became small).
func TestCopyLinesLongLineGivesBack(t *testing.T) {
	const long, tail, read = 2 << 20, 4 << 20, 64<<10 + 13
	var in bytes.Buffer
	io.Copy(&in, io.LimitReader(&stampText{}, long))
	in.WriteByte('\n')
	longEnd := in.Len()
	io.Copy(&in, io.LimitReader(&stampText{nl: true}, tail))
	want := bytes.Clone(in.Bytes())
	s := &boundSink{want: bytes.NewReader(want), scratch: make([]byte, len(want)), longEnd: longEnd, margin: read}
	c := newLineCopier(&chunkReader{data: in.Bytes(), sizes: []int{read}}, nil, s, func(error) {}, nil)
	s.c = c
	c.run()
	if s.err != nil {
		t.Fatal(s.err)
	}
	if s.got != len(want) || s.checked == 0 {
		t.Fatalf("got %d bytes in %d calls after the long line, want %d bytes and some calls", s.got, s.checked, len(want))
	}
}

// A process that writes 100 MiB without a newline: its reader hands the line
// on in MaxLine pieces straight from its buffer, never holds more than
// MaxLine bytes (and a spare byte for the '\n') however long the line, and
// gives the memory back once the line ends, though the process goes on
// writing. (Its buffer used to be copied for each piece, and a busy process
// kept the grown buffer for good.)
func TestCopyLinesEndlessLineBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MiB through a pipe")
	}
	const long, tail = 100 << 20, 8 << 20
	spec := helper("noline", "noline", strconv.Itoa(long), strconv.Itoa(tail))
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	GrowPipe(pr, childPipeSize)
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env, cmd.Stdout = spec.Env, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()

	// The line arrives as MaxLine pieces, each ended with '\n', the last
	// with its own; then the tail.
	var want []io.Reader
	src := &stampText{}
	longEnd := 0
	for left := long; left > 0; left -= MaxLine {
		n := min(left, MaxLine)
		want = append(want, io.LimitReader(src, int64(n)), strings.NewReader("\n"))
		longEnd += n + 1
	}
	want = append(want, io.LimitReader(&stampText{nl: true}, tail))
	s := &boundSink{want: io.MultiReader(want...), scratch: make([]byte, MaxLine+1), longEnd: longEnd, margin: 2 << 20}

	var bp bufPool
	c := newLineCopier(pr, &bp, s, func(error) {}, nil)
	s.c = c
	c.run()
	if err := cmd.Wait(); err != nil {
		t.Errorf("the helper: %v", err)
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	if n, _ := io.Copy(io.Discard, s.want); n != 0 || s.got != longEnd+tail {
		t.Fatalf("got %d bytes, want %d (%d missing)", s.got, longEnd+tail, n)
	}
	if s.checked == 0 {
		t.Fatal("no call came after the long line to check that its memory was given back")
	}
	if c.buf != nil || bp.held.Load() != 0 {
		t.Errorf("after EOF the reader holds %d bytes and %d pool buffers, want none", cap(c.buf), bp.held.Load())
	}
	t.Logf("the reader held %d bytes at most (MaxLine %d)", s.peak, MaxLine)
}
