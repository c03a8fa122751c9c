package logmux_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/logmux"
)

// at is the injected clock's time: 14:03:07 local time.
var at = time.Date(2024, 1, 2, 14, 3, 7, 0, time.Local)

func fixed() time.Time { return at }

func TestLayout(t *testing.T) {
	tests := []struct {
		name  string
		opts  logmux.Options
		proc  string
		lines string
		want  string
	}{
		{"timestamp and prefix, padded to the longest name",
			logmux.Options{Timestamp: true, Prefix: true, Names: []string{"web.1", "worker.1"}},
			"web.1", "a\nb\n",
			"14:03:07 web.1    | a\n14:03:07 web.1    | b\n"},
		{"the longest name is not padded",
			logmux.Options{Timestamp: true, Prefix: true, Names: []string{"web.1", "worker.1"}},
			"worker.1", "a\n",
			"14:03:07 worker.1 | a\n"},
		{"padded to at least 6, the width of system",
			logmux.Options{Prefix: true, Names: []string{"a", "b"}},
			"a", "x\n",
			"a      | x\n"},
		{"a name outside Names is not cut",
			logmux.Options{Prefix: true, Names: []string{"web.1"}},
			"unlisted-long.1", "x\n",
			"unlisted-long.1 | x\n"},
		{"timestamp only",
			logmux.Options{Timestamp: true, Names: []string{"web.1"}},
			"web.1", "x\ny\n",
			"14:03:07 x\n14:03:07 y\n"},
		{"neither: bytes unchanged",
			logmux.Options{Color: true, Names: []string{"web.1"}},
			"web.1", "x\n\xff\x1b[1m\n",
			"x\n\xff\x1b[1m\n"},
		{"empty and odd lines are prefixed too",
			logmux.Options{Prefix: true, Names: []string{"web.1"}},
			"web.1", "\n\xff\xfe\r\n\x1b[31mred\x1b[0m\n",
			"web.1  | \nweb.1  | \xff\xfe\r\nweb.1  | \x1b[31mred\x1b[0m\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = fixed
			var b bytes.Buffer
			m := logmux.New(&b, tt.opts)
			if err := m.Lines(tt.proc).WriteLines([]byte(tt.lines)); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %q\nwant %q", b.String(), tt.want)
			}
		})
	}
}

func TestTimestampFollowsClock(t *testing.T) {
	now := at
	var b bytes.Buffer
	m := logmux.New(&b, logmux.Options{Timestamp: true, Prefix: true, Names: []string{"web.1"}, Now: func() time.Time { return now }})
	w := m.Lines("web.1")
	w.WriteLines([]byte("a\n"))
	now = now.Add(500 * time.Millisecond)
	w.WriteLines([]byte("b\n"))
	now = now.Add(time.Second)
	w.WriteLines([]byte("c\n"))
	now = now.Add(time.Hour)
	m.Line(logmux.SystemName, "d")
	want := "14:03:07 web.1  | a\n14:03:07 web.1  | b\n14:03:08 web.1  | c\n15:03:08 system | d\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

// esc is the SGR sequence for a colour code.
func esc(code int) string { return fmt.Sprintf("\x1b[%dm", code) }

func TestColour(t *testing.T) {
	// foreman's order: cyan, yellow, green, magenta, red, blue, then again.
	names := []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"}
	codes := []int{36, 33, 32, 35, 31, 34, 36}
	var b bytes.Buffer
	m := logmux.New(&b, logmux.Options{Color: true, Timestamp: true, Prefix: true, Names: names, Now: fixed})
	// Colours follow the order of Names, not the order of first output.
	for i := len(names) - 1; i >= 0; i-- {
		b.Reset()
		// The line's own escape codes pass through; only the prefix is coloured.
		if err := m.Lines(names[i]).WriteLines([]byte("\x1b[1mbold\x1b[0m\n")); err != nil {
			t.Fatal(err)
		}
		want := esc(codes[i]) + "14:03:07 " + names[i] + "     |" + esc(0) + " \x1b[1mbold\x1b[0m\n"
		if b.String() != want {
			t.Errorf("%s: got %q, want %q", names[i], b.String(), want)
		}
	}
	for _, tt := range []struct {
		name string
		code int
	}{
		{logmux.SystemName, 97}, // bright white
		{"extra", 33},           // not in Names: the next colour (the 8th)
	} {
		b.Reset()
		m.Line(tt.name, "x")
		if want := esc(tt.code) + "14:03:07 " + fmt.Sprintf("%-6s", tt.name) + " |" + esc(0) + " x\n"; b.String() != want {
			t.Errorf("%s: got %q, want %q", tt.name, b.String(), want)
		}
	}

	// Without Color, no escape code but the line's own.
	b.Reset()
	m = logmux.New(&b, logmux.Options{Timestamp: true, Prefix: true, Names: names, Now: fixed})
	m.Lines("p1").WriteLines([]byte("plain\n"))
	m.Line(logmux.SystemName, "msg")
	if strings.Contains(b.String(), "\x1b") {
		t.Errorf("colour codes without Color: %q", b.String())
	}
}

// writeRecorder records each Write separately; it can fail from a given call.
type writeRecorder struct {
	mu     sync.Mutex
	writes []string
	failAt int // the 1-based call that fails, and every later one; 0: never
	err    error
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	if w.failAt > 0 && len(w.writes) >= w.failAt {
		return 0, w.err
	}
	return len(p), nil
}

// Each WriteLines is one Write, so lines of different processes never tear
// or interleave, whatever the concurrency.
func TestOneWritePerChunk(t *testing.T) {
	const procs, chunks, perChunk = 8, 200, 5
	var names []string
	for i := range procs {
		names = append(names, fmt.Sprintf("proc.%d", i))
	}
	var w writeRecorder
	m := logmux.New(&w, logmux.Options{Color: true, Timestamp: true, Prefix: true, Names: names, Now: time.Now})
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw := m.Lines(name)
			var chunk []byte
			for c := range chunks {
				chunk = chunk[:0]
				for l := range perChunk {
					chunk = fmt.Appendf(chunk, "%s chunk %d line %d\n", name, c, l)
				}
				if err := lw.WriteLines(chunk); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// Supervisor events arrive from another goroutine meanwhile.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range chunks {
			m.Event(runner.Event{Kind: runner.System, Msg: fmt.Sprintf("system message %d", i)})
		}
	}()
	wg.Wait()

	if want := procs*chunks + chunks; len(w.writes) != want {
		t.Fatalf("%d writes, want %d (one per WriteLines and per event)", len(w.writes), want)
	}
	next := map[string]int{}
	for _, wr := range w.writes {
		lines := strings.SplitAfter(strings.TrimSuffix(wr, "\n"), "\n")
		if strings.Contains(wr, "system message") {
			if len(lines) != 1 {
				t.Fatalf("event write %q holds more than its line", wr)
			}
			continue
		}
		if len(lines) != perChunk {
			t.Fatalf("write %q holds %d lines, want one chunk of %d", wr, len(lines), perChunk)
		}
		var name string
		for l, line := range lines {
			_, text, ok := strings.Cut(line, "|"+esc(0)+" ")
			if !ok {
				t.Fatalf("line %q has no prefix", line)
			}
			if l == 0 {
				name, _, _ = strings.Cut(text, " ")
			}
			want := fmt.Sprintf("%s chunk %d line %d", name, next[name], l)
			if strings.TrimSuffix(text, "\n") != want {
				t.Fatalf("write %q: line %d is %q, want %q", wr, l, text, want)
			}
		}
		next[name]++
	}
	for _, name := range names {
		if next[name] != chunks {
			t.Errorf("%s: %d chunks written, want %d", name, next[name], chunks)
		}
	}
}

// After the first write error nothing more is written, and every call
// returns that error, so the supervisor shuts down.
func TestWriteErrorSticky(t *testing.T) {
	errPipe := syscall.EPIPE
	w := writeRecorder{failAt: 2, err: errPipe}
	m := logmux.New(&w, logmux.Options{Prefix: true, Names: []string{"web.1"}})
	lw := m.Lines("web.1")
	if err := lw.WriteLines([]byte("one\n")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := lw.WriteLines([]byte("two\n")); !errors.Is(err, errPipe) {
		t.Fatalf("failing write returned %v, want %v", err, errPipe)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"WriteLines", func() error { return lw.WriteLines([]byte("three\n")) }},
		{"WriteLines of another process", func() error { return m.Lines("worker.1").WriteLines([]byte("x\n")) }},
		{"Line", func() error { return m.Line(logmux.SystemName, "msg") }},
		{"Event", func() error { return m.Event(runner.Event{Kind: runner.Started, Name: "web.1", PID: 42}) }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, errPipe) {
			t.Errorf("%s after the error returned %v, want %v", c.name, err, errPipe)
		}
	}
	if len(w.writes) != 2 {
		t.Errorf("%d writes reached the writer, want 2 (nothing after the error): %q", len(w.writes), w.writes)
	}
}

func TestEventWording(t *testing.T) {
	tests := []struct {
		e    runner.Event
		want string
	}{
		{runner.Event{Kind: runner.Started, Name: "web.1", PID: 4242}, "web.1  | started with pid 4242\n"},
		{runner.Event{Kind: runner.Exited, Name: "web.1", PID: 4242, Code: 0}, "web.1  | exited with code 0\n"},
		{runner.Event{Kind: runner.Exited, Name: "web.1", Code: 127}, "web.1  | exited with code 127 (command not found)\n"},
		{runner.Event{Kind: runner.Exited, Name: "web.1", Code: 143, Signal: syscall.SIGTERM}, "web.1  | terminated by SIGTERM\n"},
		{runner.Event{Kind: runner.Exited, Name: "web.1", Code: 137, Signal: syscall.SIGKILL}, "web.1  | terminated by SIGKILL\n"},
		{runner.Event{Kind: runner.StartFailed, Name: "web.1", Err: errors.New("exec: no such file")}, "web.1  | failed to start: exec: no such file\n"},
		{runner.Event{Kind: runner.System, Msg: "sending SIGTERM to all processes"}, "system | sending SIGTERM to all processes\n"},
		{runner.Event{Kind: runner.Ready, Name: "web.1", Port: 5000, Elapsed: 1320 * time.Millisecond}, "system | web.1 ready in 1.3s on :5000\n"},
		{runner.Event{Kind: runner.Ready, Name: "worker.1", Elapsed: 42 * time.Millisecond, Msg: "booted"}, "system | worker.1 ready in 42ms\n"},
		{runner.Event{Kind: runner.System, Msg: "src/evil\x1b]0;x\a.go changed"}, "system | src/evil\\x1b]0;x\\a.go changed\n"},
		{runner.Event{Kind: runner.EventKind(99), Name: "web.1"}, ""},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		m := logmux.New(&b, logmux.Options{Prefix: true, Names: []string{"web.1"}})
		if err := m.Event(tt.e); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("Event(%+v) wrote %q, want %q", tt.e, b.String(), tt.want)
		}
		// EventLine is the same text, without the layout.
		name, text, ok := logmux.EventLine(tt.e)
		if ok != (tt.want != "") {
			t.Errorf("EventLine(%+v) ok = %v", tt.e, ok)
			continue
		}
		if ok {
			var b2 bytes.Buffer
			logmux.New(&b2, logmux.Options{Prefix: true, Names: []string{"web.1"}}).Line(name, text)
			if b2.String() != tt.want {
				t.Errorf("EventLine(%+v) = %q, %q: shown as %q, want %q", tt.e, name, text, b2.String(), tt.want)
			}
		}
	}
}

func TestDescribeExit(t *testing.T) {
	tests := []struct {
		code      int
		signalled bool
		signal    string
		want      string
	}{
		{0, false, "", "exited with code 0"},
		{1, false, "", "exited with code 1"},
		{126, false, "", "exited with code 126 (command found but not executable)"},
		{127, false, "", "exited with code 127 (command not found)"},
		{130, true, "SIGINT", "terminated by SIGINT"},
		{137, true, "SIGKILL", "terminated by SIGKILL"},
		{143, false, "", "exited with code 143"}, // a code, not a signal: said as such
	}
	for _, tt := range tests {
		if got := logmux.DescribeExit(tt.code, tt.signalled, tt.signal); got != tt.want {
			t.Errorf("DescribeExit(%d, %v, %q) = %q, want %q", tt.code, tt.signalled, tt.signal, got, tt.want)
		}
	}
}
