//go:build linux || darwin

package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAttached is a terminal for the fake handler: what the test writes to
// out is its output; input and resizes are recorded on channels.
type fakeAttached struct {
	outR    *io.PipeReader
	out     *io.PipeWriter
	input   chan []byte
	resizes chan Size
	closed  chan struct{}
	once    sync.Once
}

func newFakeAttached() *fakeAttached {
	r, w := io.Pipe()
	return &fakeAttached{outR: r, out: w, input: make(chan []byte, 100), resizes: make(chan Size, 10), closed: make(chan struct{})}
}

func (a *fakeAttached) Read(p []byte) (int, error) { return a.outR.Read(p) }

func (a *fakeAttached) Write(p []byte) (int, error) {
	a.input <- bytes.Clone(p)
	return len(p), nil
}

func (a *fakeAttached) Resize(sz Size) error {
	a.resizes <- sz
	return nil
}

func (a *fakeAttached) Close() error {
	a.once.Do(func() {
		close(a.closed)
		a.outR.Close()
	})
	return nil
}

// waitChan waits for c to be closed or to yield, for at most 10s.
func waitChan[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
		panic("unreachable")
	}
}

func rec(name, text string) Record {
	return Record{Time: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), Name: name, Stream: StreamOut, Text: text}
}

func TestRecordJSON(t *testing.T) {
	b, err := json.Marshal(rec("web.1", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"time":"2026-01-02T15:04:05Z","name":"web.1","stream":"out","text":"hi"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestLogs(t *testing.T) {
	e := newEnv(t)
	all := []Record{rec("web.1", "a"), rec("worker.1", "b"), rec("web.1", "c"), {Name: "web.1", Stream: StreamSystem, Text: "d"}}
	h := &fakeHandler{records: all}
	serve(t, e, h)
	var got []Record
	collect := func(r Record) error { got = append(got, r); return nil }
	if err := Logs(ctxT(t), e.root, e.opt, LogsRequest{Names: []string{"web"}, Lines: 3}, collect); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if want := all[1:]; !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if calls, names := h.getCalls(); calls[0] != "logs web" || !reflect.DeepEqual(names[0], []string{"web"}) {
		t.Errorf("calls %q", calls)
	}
	// Lines 0, no follow: nothing, and a clean end.
	got = nil
	if err := Logs(ctxT(t), e.root, e.opt, LogsRequest{}, collect); err != nil || len(got) != 0 {
		t.Errorf("Logs with 0 lines: %v, %+v", err, got)
	}
	// f's error ends it.
	stop := errors.New("enough")
	if err := Logs(ctxT(t), e.root, e.opt, LogsRequest{Lines: 4}, func(Record) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Logs with a failing f: %v, want %v", err, stop)
	}
}

func TestLogsErrors(t *testing.T) {
	e := newEnv(t)
	h := &fakeHandler{records: []Record{rec("web.1", "a"), rec("web.1", "b")}, logsErr: errors.New(`unknown process "wbe"; known: web`)}
	_, stop := serve(t, e, h)
	var re *RemoteError
	err := Logs(ctxT(t), e.root, e.opt, LogsRequest{Names: []string{"wbe"}}, func(Record) error { return nil })
	if !errors.As(err, &re) || re.Msg != `unknown process "wbe"; known: web` {
		t.Errorf("error before any record: %v, want the handler's as a RemoteError", err)
	}
	// After records, the error ends the stream and comes back too.
	h.sendBeforeErr = 2
	h.logsErr = errors.New("journal gone")
	n := 0
	err = Logs(ctxT(t), e.root, e.opt, LogsRequest{Lines: 2}, func(Record) error { n++; return nil })
	if !errors.As(err, &re) || re.Msg != "journal gone" || n != 2 {
		t.Errorf("error after 2 records: %v after %d records", err, n)
	}
	stop()
	if err := Logs(ctxT(t), e.root, e.opt, LogsRequest{}, func(Record) error { return nil }); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Logs with no server: %v, want ErrNotRunning", err)
	}
}

// TestLogsFollowCancel follows, and checks that the client's going away
// ends the handler's call.
func TestLogsFollowCancel(t *testing.T) {
	e := newEnv(t)
	h := &fakeHandler{records: []Record{rec("web.1", "old")}, follow: []Record{rec("web.1", "new")}, logsEnded: make(chan struct{})}
	serve(t, e, h)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	var got []string
	err := Logs(ctx, e.root, e.opt, LogsRequest{Lines: 1, Follow: true}, func(r Record) error {
		got = append(got, r.Text)
		if r.Text == "new" {
			cancel() // the user's Ctrl-C
		}
		return nil
	})
	if err != nil {
		t.Errorf("a followed Logs ended by its ctx: %v, want nil", err)
	}
	if !reflect.DeepEqual(got, []string{"old", "new"}) {
		t.Errorf("got %q", got)
	}
	waitChan(t, "end of the handler's Logs after the client went", h.logsEnded)
}

// TestLogsFollowServerStops checks that a follow ends when the server
// stops, and that Serve does not wait for it forever.
func TestLogsFollowServerStops(t *testing.T) {
	e := newEnv(t)
	h := &fakeHandler{follow: []Record{rec("web.1", "new")}, logsEnded: make(chan struct{})}
	_, stop := serve(t, e, h)
	errc := make(chan error, 1)
	got := make(chan struct{})
	go func() {
		errc <- Logs(ctxT(t), e.root, e.opt, LogsRequest{Follow: true}, func(Record) error { close(got); return nil })
	}()
	waitChan(t, "a record", got)
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := waitChan(t, "end of Logs after the server stopped", errc); err != nil {
		t.Errorf("Logs: %v, want nil", err)
	}
}

func TestAttach(t *testing.T) {
	e := newEnv(t)
	fa := newFakeAttached()
	h := &fakeHandler{attached: fa}
	serve(t, e, h)
	ac, err := Attach(ctxT(t), e.root, e.opt, "web.1", Size{Cols: 100, Rows: 30})
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	defer ac.Close()
	h.mu.Lock()
	size := h.size
	h.mu.Unlock()
	if calls, _ := h.getCalls(); calls[0] != "attach web.1" || size != (Size{100, 30}) {
		t.Errorf("calls %q, size %+v", calls, size)
	}
	// Output, raw: a prompt without a newline comes through.
	go fa.out.Write([]byte("hello\r\n(Pdb) "))
	want := "hello\r\n(Pdb) "
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(ac, buf); err != nil || string(buf) != want {
		t.Fatalf("read %q (%v), want %q", buf, err, want)
	}
	// Input, in frames: one large write arrives whole, in order.
	big := bytes.Repeat([]byte("0123456789"), 20000)
	if _, err := ac.Write([]byte("p x\n")); err != nil {
		t.Fatal(err)
	}
	if got := waitChan(t, "input", fa.input); string(got) != "p x\n" {
		t.Errorf("input %q", got)
	}
	if err := ac.Resize(Size{Cols: 120, Rows: 40}); err != nil {
		t.Fatal(err)
	}
	if got := waitChan(t, "resize", fa.resizes); got != (Size{120, 40}) {
		t.Errorf("resize %+v", got)
	}
	if _, err := ac.Write(big); err != nil {
		t.Fatal(err)
	}
	var in []byte
	for len(in) < len(big) {
		in = append(in, waitChan(t, "input", fa.input)...)
	}
	if !bytes.Equal(in, big) {
		t.Errorf("a %d-byte input arrived as %d different bytes", len(big), len(in))
	}
	// The process exits: its output ends, and so does the client's read.
	go func() {
		fa.out.Write([]byte("bye\r\n"))
		fa.out.Close()
	}()
	rest, err := io.ReadAll(ac)
	if err != nil || string(rest) != "bye\r\n" {
		t.Errorf("after the exit read %q (%v), want bye and EOF", rest, err)
	}
	waitChan(t, "the server to close the attachment", fa.closed)
}

func TestAttachDetach(t *testing.T) {
	e := newEnv(t)
	fa := newFakeAttached()
	serve(t, e, &fakeHandler{attached: fa})
	ac, err := Attach(ctxT(t), e.root, e.opt, "web.1", Size{})
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	ac.Close()
	waitChan(t, "the server to close the attachment after the client went", fa.closed)

	// A refused attach is the handler's error.
	e2 := newEnv(t)
	serve(t, e2, &fakeHandler{attachErr: errors.New("web.1 does not run on a terminal; hint: start with --tty")})
	_, err = Attach(ctxT(t), e2.root, e2.opt, "web.1", Size{})
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "does not run on a terminal") {
		t.Errorf("Attach refused: %v", err)
	}
}

// TestQuit checks that Quit returns only once the server has closed: its
// socket is gone by then.
func TestQuit(t *testing.T) {
	e := newEnv(t)
	h := &fakeHandler{quitCalled: make(chan struct{})}
	_, stop := serve(t, e, h)
	_, sock, lock := e.paths(t)
	errc := make(chan error, 1)
	go func() { errc <- Quit(ctxT(t), e.root, e.opt) }()
	waitChan(t, "the handler's Quit", h.quitCalled)
	select {
	case err := <-errc:
		t.Fatalf("Quit returned (%v) before the server closed", err)
	default:
	}
	// What the app does once the formation has stopped: end Serve.
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := waitChan(t, "Quit to return after Close", errc); err != nil {
		t.Errorf("Quit: %v", err)
	}
	for _, p := range []string{sock, lock} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("when Quit returned, %s was still there (%v)", p, err)
		}
	}
	if err := Quit(ctxT(t), e.root, e.opt); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Quit with no server: %v, want ErrNotRunning", err)
	}
}

// TestQuitRefused returns the handler's error.
func TestQuitRefused(t *testing.T) {
	e := newEnv(t)
	serve(t, e, &fakeHandler{err: errors.New("already stopping")})
	var re *RemoteError
	if err := Quit(ctxT(t), e.root, e.opt); !errors.As(err, &re) || re.Msg != "already stopping" {
		t.Errorf("Quit: %v", err)
	}
}

// quitNow is a handler whose Quit ends the start at once, as an app whose
// processes all exit on the first signal does: Serve's context ends and the
// server closes before Quit has returned.
type quitNow struct {
	fakeHandler
	end func()
}

func (h *quitNow) Quit(ctx context.Context) error {
	h.end()
	return nil
}

// TestQuitAnsweredWhenTheStartEndsAtOnce: the answer reaches the client
// even though the end of the server's context, which quit asked for, comes
// before it is written.
func TestQuitAnsweredWhenTheStartEndsAtOnce(t *testing.T) {
	e := newEnv(t)
	srv, err := Listen(context.Background(), e.root, e.opt)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &quitNow{end: func() {
		cancel()
		srv.Close()
	}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, h) }()
	if err := Quit(ctxT(t), e.root, e.opt); err != nil {
		t.Errorf("Quit: %v, want nil: the start has ended as asked", err)
	}
	if err := waitChan(t, "Serve to return", done); err != nil {
		t.Errorf("Serve: %v", err)
	}
}
