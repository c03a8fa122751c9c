package journal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/journal"
)

// deadline bounds every wait; it is never reached when the code works.
const deadline = 20 * time.Second

// sink is the Sink a Tee wraps: it counts what reaches it.
type sink struct {
	mu     sync.Mutex
	lines  map[string][]string
	events []runner.Event
}

func newSink() *sink { return &sink{lines: map[string][]string{}} }

func (s *sink) Lines(name string) runner.LineWriter {
	return lineFunc(func(p []byte) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, l := range strings.SplitAfter(string(p), "\n") {
			if l != "" {
				s.lines[name] = append(s.lines[name], strings.TrimSuffix(l, "\n"))
			}
		}
		return nil
	})
}

func (s *sink) Event(e runner.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	return nil
}

type lineFunc func([]byte) error

func (f lineFunc) WriteLines(p []byte) error { return f(p) }

// texts is "name/stream:text" for each record.
func texts(rs []journal.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name + "/" + r.Stream + ":" + r.Text
	}
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func write(t *testing.T, w runner.LineWriter, lines ...string) {
	t.Helper()
	if err := w.WriteLines([]byte(strings.Join(lines, "\n") + "\n")); err != nil {
		t.Fatal(err)
	}
}

func TestRingBounds(t *testing.T) {
	t.Run("lines", func(t *testing.T) {
		j := journal.New(journal.Options{Lines: 3})
		tee := j.Tee(newSink())
		write(t, tee.Lines("web.1"), "a", "b", "c", "d", "e")
		write(t, tee.Lines("worker.1"), "w")
		equal(t, "web.1", texts(j.Tail([]string{"web.1"}, -1)), []string{"web.1/out:c", "web.1/out:d", "web.1/out:e"})
		equal(t, "worker.1", texts(j.Tail([]string{"worker.1"}, -1)), []string{"worker.1/out:w"})
	})
	t.Run("bytes", func(t *testing.T) {
		j := journal.New(journal.Options{Lines: 100, Bytes: 10})
		tee := j.Tee(newSink())
		write(t, tee.Lines("web.1"), "aaaa", "bbbb", "cccc")
		equal(t, "after 12 bytes", texts(j.Tail(nil, -1)), []string{"web.1/out:bbbb", "web.1/out:cccc"})
		write(t, tee.Lines("web.1"), "0123456789")
		equal(t, "after a line of the whole budget", texts(j.Tail(nil, -1)), []string{"web.1/out:0123456789"})
		write(t, tee.Lines("web.1"), "", "")
		equal(t, "empty lines cost nothing", texts(j.Tail(nil, -1)), []string{"web.1/out:0123456789", "web.1/out:", "web.1/out:"})
	})
	t.Run("across chunks", func(t *testing.T) {
		j := journal.New(journal.Options{Lines: 3})
		tee := j.Tee(newSink())
		web := tee.Lines("web.1")
		write(t, web, "a", "b", "c", "d")
		write(t, web, "e")
		equal(t, "the last 3", texts(j.Tail(nil, -1)), []string{"web.1/out:c", "web.1/out:d", "web.1/out:e"})
		equal(t, "the last 2", texts(j.Tail(nil, 2)), []string{"web.1/out:d", "web.1/out:e"})
		write(t, web, "f", "g", "h")
		equal(t, "a whole chunk", texts(j.Tail(nil, -1)), []string{"web.1/out:f", "web.1/out:g", "web.1/out:h"})
	})
	t.Run("chunk over the bytes", func(t *testing.T) {
		j := journal.New(journal.Options{Bytes: 10})
		tee := j.Tee(newSink())
		write(t, tee.Lines("web.1"), "aaaa", "bbbb", "cccc", "dd", "")
		equal(t, "its last lines within 10 bytes", texts(j.Tail(nil, -1)), []string{"web.1/out:bbbb", "web.1/out:cccc", "web.1/out:dd", "web.1/out:"})
	})
	t.Run("long line", func(t *testing.T) {
		j := journal.New(journal.Options{})
		s := newSink()
		tee := j.Tee(s)
		long := strings.Repeat("x", journal.MaxText-1) + "é" + strings.Repeat("y", 5000) // é straddles the cut
		write(t, tee.Lines("web.1"), long, "short")
		rs := j.Tail(nil, -1)
		want := strings.Repeat("x", journal.MaxText-1) + " [… " + strconv.Itoa(len(long)-journal.MaxText+1) + " bytes cut]"
		if len(rs) != 2 || rs[0].Text != want || rs[1].Text != "short" {
			t.Errorf("kept %d records, first of %d bytes ending %q", len(rs), len(rs[0].Text), rs[0].Text[len(rs[0].Text)-30:])
		}
		if got := s.lines["web.1"]; len(got) != 2 || got[0] != long {
			t.Errorf("the sink downstream did not get the long line whole")
		}
	})
}

func TestTailOrderAndSelection(t *testing.T) {
	j := journal.New(journal.Options{})
	s := newSink()
	tee := j.Tee(s)
	web1, web2, worker, webhook := tee.Lines("web.1"), tee.Lines("web.2"), tee.Lines("worker.1"), tee.Lines("webhook.1")
	event := func(e runner.Event) {
		if err := tee.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	event(runner.Event{Kind: runner.Started, Name: "web.1", PID: 42})
	write(t, web1, "w1 a")
	write(t, worker, "k a", "k b")
	write(t, web2, "w2 a")
	event(runner.Event{Kind: runner.System, Msg: "sending SIGTERM to all processes"})
	write(t, web1, "w1 b")
	write(t, webhook, "h a")
	event(runner.Event{Kind: runner.Exited, Name: "web.1", Code: 143, Signal: 15})

	all := []string{
		"web.1/system:started with pid 42", "web.1/out:w1 a", "worker.1/out:k a", "worker.1/out:k b", "web.2/out:w2 a",
		"system/system:sending SIGTERM to all processes", "web.1/out:w1 b", "webhook.1/out:h a", "web.1/system:terminated by SIGTERM",
	}
	equal(t, "Tail(all)", texts(j.Tail(nil, -1)), all)
	equal(t, "Tail(all, 100)", texts(j.Tail(nil, 100)), all)
	equal(t, "Tail(all, 2)", texts(j.Tail(nil, 2)), all[7:])
	equal(t, "Tail(web, 3)", texts(j.Tail([]string{"web"}, 3)), []string{"web.2/out:w2 a", "web.1/out:w1 b", "web.1/system:terminated by SIGTERM"})
	equal(t, "Tail(worker.1, system)", texts(j.Tail([]string{"worker.1", "system"}, -1)), []string{"worker.1/out:k a", "worker.1/out:k b", "system/system:sending SIGTERM to all processes"})
	equal(t, "Tail(web.2, web)", texts(j.Tail([]string{"web.2", "web"}, -1)), []string{"web.1/system:started with pid 42", "web.1/out:w1 a", "web.2/out:w2 a", "web.1/out:w1 b", "web.1/system:terminated by SIGTERM"})
	equal(t, "Tail(web.1)", texts(j.Tail([]string{"web.1"}, 1)), []string{"web.1/system:terminated by SIGTERM"})
	equal(t, "Tail(nobody)", texts(j.Tail([]string{"nobody"}, -1)), nil)
	if rs := j.Tail(nil, 0); len(rs) != 0 {
		t.Errorf("Tail(all, 0) = %q, want none", texts(rs))
	}
	if len(s.events) != 3 || len(s.lines["worker.1"]) != 2 {
		t.Errorf("the sink downstream got %d events and %q", len(s.events), s.lines)
	}

	var b bytes.Buffer
	if err := j.WriteTail("web.1", 2, &b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " w1 b") || !strings.HasSuffix(lines[1], " terminated by SIGTERM") || len(lines[0]) != len("15:04:05 w1 b") {
		t.Errorf("WriteTail wrote %q", b.String())
	}
}

// follow runs Follow in the background, sending records to a channel.
type follow struct {
	cancel context.CancelFunc
	recs   chan journal.Record
	done   chan error
}

func startFollow(j *journal.Journal, names []string, n int) *follow {
	ctx, cancel := context.WithCancel(context.Background())
	f := &follow{cancel: cancel, recs: make(chan journal.Record, 100), done: make(chan error, 1)}
	go func() {
		f.done <- j.Follow(ctx, names, n, func(r journal.Record) error {
			f.recs <- r
			return nil
		})
	}()
	return f
}

func (f *follow) next(t *testing.T) journal.Record {
	t.Helper()
	select {
	case r := <-f.recs:
		return r
	case <-time.After(deadline):
		t.Fatal("timed out waiting for a record from Follow")
	}
	return journal.Record{}
}

func (f *follow) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-f.done:
		return err
	case <-time.After(deadline):
		t.Fatal("Follow did not return")
	}
	return nil
}

func TestFollow(t *testing.T) {
	j := journal.New(journal.Options{})
	tee := j.Tee(newSink())
	web, worker := tee.Lines("web.1"), tee.Lines("worker.1")
	write(t, web, "old 1", "old 2", "old 3")
	write(t, worker, "not mine")

	f := startFollow(j, []string{"web"}, 2)
	for _, want := range []string{"old 2", "old 3"} {
		if r := f.next(t); r.Text != want {
			t.Fatalf("tail: got %q, want %q", r.Text, want)
		}
	}
	write(t, worker, "still not mine")
	write(t, web, "new 1", "new 2")
	tee.Event(runner.Event{Kind: runner.Exited, Name: "web.1", Code: 3})
	for _, want := range []string{"out:new 1", "out:new 2", "system:exited with code 3"} {
		if r := f.next(t); r.Stream+":"+r.Text != want {
			t.Fatalf("new: got %s:%q, want %q", r.Stream, r.Text, want)
		}
	}
	f.cancel()
	if err := f.end(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Follow after cancel = %v, want context.Canceled", err)
	}

	// Close ends a follower once it has sent what was recorded.
	g := startFollow(j, []string{"web.1"}, 1)
	if r := g.next(t); r.Text != "exited with code 3" {
		t.Errorf("got %q, want the tail", r.Text)
	}
	write(t, web, "last")
	j.Close()
	if r := g.next(t); r.Text != "last" {
		t.Errorf("got %q, want the last line before Close", r.Text)
	}
	if err := g.end(t); err != nil {
		t.Errorf("Follow after Close = %v, want nil", err)
	}
	// A send that fails ends Follow with its error.
	boom := errors.New("reader gone")
	if err := j.Follow(context.Background(), nil, 1, func(journal.Record) error { return boom }); err != boom {
		t.Errorf("Follow with a failing send = %v, want %v", err, boom)
	}
}

// TestSlowFollower checks that a follower that does not read never blocks
// the writers: records are skipped for it, and it is told how many.
func TestSlowFollower(t *testing.T) {
	j := journal.New(journal.Options{Lines: 100})
	tee := j.Tee(newSink())
	web := tee.Lines("web.1")
	write(t, web, "before")

	inSend, gate, noticed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var got []journal.Record
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		first := true
		done <- j.Follow(ctx, nil, 1, func(r journal.Record) error {
			got = append(got, r)
			if first {
				first = false
				close(inSend)
				<-gate
			}
			if strings.HasSuffix(r.Text, "(the reader was too slow)") {
				close(noticed)
			}
			if r.Text == "after" {
				cancel()
			}
			return nil
		})
	}()
	select {
	case <-inSend: // registered, and stuck in its first send
	case <-time.After(deadline):
		t.Fatal("Follow never sent the tail")
	}
	const total = 3 * journal.FollowQueue
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		var b []byte
		for i := range total {
			b = append(b, "line "...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, '\n')
			if i%100 == 99 || i == total-1 {
				web.WriteLines(b)
				b = b[:0]
			}
		}
	}()
	select {
	case <-wrote:
	case <-time.After(deadline):
		t.Fatal("the writer was blocked by a follower that does not read")
	}
	close(gate)
	select {
	case <-noticed: // the queue is drained: "after" is not skipped
	case <-time.After(deadline):
		t.Fatal("Follow never said lines were skipped")
	}
	write(t, web, "after")
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Follow = %v", err)
		}
	case <-time.After(deadline):
		t.Fatal("Follow did not get the line written after the skip")
	}

	// before, FollowQueue lines, the notice, after.
	if len(got) != journal.FollowQueue+3 {
		t.Fatalf("got %d records, want %d", len(got), journal.FollowQueue+3)
	}
	for i, r := range got[1 : journal.FollowQueue+1] {
		if want := "line " + strconv.Itoa(i); r.Text != want {
			t.Fatalf("record %d is %q, want %q", i+1, r.Text, want)
		}
	}
	notice := got[journal.FollowQueue+1]
	want := fmt.Sprintf("%d lines skipped (the reader was too slow)", total-journal.FollowQueue)
	if notice.Name != "system" || notice.Stream != journal.StreamSystem || notice.Text != want {
		t.Errorf("notice %+v, want %q under system", notice, want)
	}
	if got[0].Text != "before" || got[len(got)-1].Text != "after" {
		t.Errorf("first %q, last %q", got[0].Text, got[len(got)-1].Text)
	}
}

// TestConcurrentWriters records from several writers, events and readers
// at once (run with -race): nothing is lost downstream, each process's
// records stay in order in Tail and for a follower.
func TestConcurrentWriters(t *testing.T) {
	const writers, lines = 6, 3000
	j := journal.New(journal.Options{Lines: 500})
	s := newSink()
	tee := j.Tee(s)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	last := map[string]int{}
	followed, skipped := 0, false
	followDone, following := make(chan error, 1), make(chan struct{})
	tee.Event(runner.Event{Kind: runner.System, Msg: "begin"})
	go func() {
		followDone <- j.Follow(ctx, nil, 1, func(r journal.Record) error {
			if r.Text == "begin" {
				close(following)
			}
			if strings.HasSuffix(r.Text, "(the reader was too slow)") {
				skipped = true
			}
			if r.Stream != journal.StreamOut {
				return nil
			}
			n, err := strconv.Atoi(strings.Fields(r.Text)[1])
			if err != nil {
				return err
			}
			if prev, ok := last[r.Name]; ok && n <= prev {
				return fmt.Errorf("%s: %d after %d", r.Name, n, prev)
			}
			last[r.Name] = n
			followed++
			return nil
		})
	}()

	select {
	case <-following:
	case <-time.After(deadline):
		t.Fatal("Follow never sent the tail")
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			lw := tee.Lines("proc." + strconv.Itoa(w+1))
			var b []byte
			for i := range lines {
				b = fmt.Appendf(b, "line %d of writer %d\n", i, w)
				if i%7 == 6 || i == lines-1 {
					lw.WriteLines(b)
					b = b[:0]
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 500 {
			tee.Event(runner.Event{Kind: runner.System, Msg: "tick " + strconv.Itoa(i)})
		}
	})
	wg.Go(func() {
		for range 200 {
			j.Tail([]string{"proc"}, 50)
		}
	})
	wg.Wait()

	for w := range writers {
		name := "proc." + strconv.Itoa(w+1)
		if n := len(s.lines[name]); n != lines {
			t.Errorf("%s: %d lines downstream, want %d", name, n, lines)
		}
		rs := j.Tail([]string{name}, -1)
		if len(rs) != 500 {
			t.Errorf("%s: %d records kept, want 500", name, len(rs))
		}
		for i, r := range rs {
			if want := fmt.Sprintf("line %d of writer %d", lines-500+i, w); r.Text != want {
				t.Fatalf("%s record %d: %q, want %q", name, i, r.Text, want)
			}
		}
	}
	j.Close()
	select {
	case err := <-followDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(deadline):
		t.Fatal("Follow did not end on Close")
	}
	if followed == 0 {
		t.Error("the follower got no line")
	}
	if !skipped {
		// Nothing was skipped: the follower had every line.
		if followed != writers*lines {
			t.Errorf("the follower got %d lines and no notice of skipped ones, want %d", followed, writers*lines)
		}
		for w := range writers {
			if n := last["proc."+strconv.Itoa(w+1)]; n != lines-1 {
				t.Errorf("proc.%d: last line followed %d, want %d", w+1, n, lines-1)
			}
		}
	}
}

// discard is a Sink that drops everything.
type discard struct{}

func (discard) Lines(string) runner.LineWriter { return lineFunc(func([]byte) error { return nil }) }
func (discard) Event(runner.Event) error       { return nil }

// BenchmarkTee measures what recording adds to each line: chunks of 64
// lines of 80 bytes, as a busy process hands them over.
func BenchmarkTee(b *testing.B) {
	var chunk []byte
	for i := range 64 {
		chunk = fmt.Appendf(chunk, "%06d %s\n", i, strings.Repeat("x", 72))
	}
	run := func(b *testing.B, s runner.Sink) {
		w := s.Lines("web.1")
		b.SetBytes(int64(len(chunk)))
		b.ReportAllocs()
		for b.Loop() {
			w.WriteLines(chunk)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/line")
	}
	b.Run("bare", func(b *testing.B) { run(b, discard{}) })
	b.Run("tee", func(b *testing.B) { run(b, journal.New(journal.Options{}).Tee(discard{})) })
	b.Run("tee+follower", func(b *testing.B) {
		j := journal.New(journal.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			j.Follow(ctx, nil, 0, func(journal.Record) error { return nil })
		}()
		run(b, j.Tee(discard{}))
		cancel()
		<-done
	})
}
