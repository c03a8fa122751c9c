package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/gangerdev/ganger/runner/control"
)

// attachHandler is a control.Handler whose only process is a terminal the
// test plays: what it writes to out is the process's output.
type attachHandler struct {
	att   *pipeAttached
	sizes chan control.Size
}

func (h *attachHandler) Status(context.Context) ([]control.Process, error) { return nil, nil }
func (h *attachHandler) Restart(context.Context, []string) error           { return nil }
func (h *attachHandler) Stop(context.Context, []string) error              { return nil }
func (h *attachHandler) Quit(context.Context) error                        { return nil }
func (h *attachHandler) Logs(context.Context, control.LogsRequest, func(control.Record) error) error {
	return errors.New("no logs here")
}

func (h *attachHandler) Attach(ctx context.Context, name string, size control.Size) (control.Attached, error) {
	if name != "web.1" {
		return nil, errors.New(`unknown process "` + name + `"; known: web.1`)
	}
	h.sizes <- size
	return h.att, nil
}

type pipeAttached struct {
	r       *io.PipeReader
	out     *io.PipeWriter
	input   chan []byte
	resizes chan control.Size
	closed  chan struct{}
	once    sync.Once
}

func newPipeAttached() *pipeAttached {
	r, w := io.Pipe()
	return &pipeAttached{r: r, out: w, input: make(chan []byte, 100), resizes: make(chan control.Size, 10), closed: make(chan struct{})}
}

func (a *pipeAttached) Read(p []byte) (int, error) { return a.r.Read(p) }
func (a *pipeAttached) Write(p []byte) (int, error) {
	a.input <- bytes.Clone(p)
	return len(p), nil
}
func (a *pipeAttached) Resize(sz control.Size) error { a.resizes <- sz; return nil }
func (a *pipeAttached) Close() error {
	a.once.Do(func() { close(a.closed); a.r.Close() })
	return nil
}

// ptyScreen collects what the terminal shows (the master's side).
type ptyScreen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	news chan struct{}
}

func watchScreen(m *os.File) *ptyScreen {
	s := &ptyScreen{news: make(chan struct{}, 1)}
	go func() {
		p := make([]byte, 4096)
		for {
			n, err := m.Read(p)
			s.mu.Lock()
			s.buf.Write(p[:n])
			s.mu.Unlock()
			select {
			case s.news <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *ptyScreen) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.After(scriptDeadline)
	for {
		s.mu.Lock()
		ok := strings.Contains(s.buf.String(), text)
		shown := s.buf.String()
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.news:
		case <-deadline:
			t.Fatalf("the terminal never showed %q; it shows %q", text, shown)
		}
	}
}

func recv[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(scriptDeadline):
		t.Fatalf("no %s within %v", what, scriptDeadline)
		panic("unreachable")
	}
}

// TestAttachTerminal drives "ganger attach" through a pseudo-terminal
// against a control server whose handler plays the process: raw mode
// (input passes untranslated, Ctrl-C as a byte), the size at the start and
// on SIGWINCH, Ctrl-] detaching with the terminal restored, and the
// process's exit ending it.
func TestAttachTerminal(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "Procfile"), []byte("web: fakeproc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"TMPDIR=" + t.TempDir(), "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	getenv := (&streams{environ: env}).getenv
	srv, err := control.Listen(context.Background(), root, control.DefaultOptions(getenv))
	if err != nil {
		t.Fatal(err)
	}
	h := &attachHandler{sizes: make(chan control.Size, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, h) }()
	defer func() {
		cancel()
		<-served
	}()

	m, s, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer s.Close()
	defer m.Close() // first: ends the reads of the slave still waiting
	if err := pty.Setsize(m, &pty.Winsize{Cols: 80, Rows: 24}); err != nil {
		t.Fatal(err)
	}
	screen := watchScreen(m)
	cooked, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	attach := func() <-chan int {
		done := make(chan int, 1)
		st := &streams{in: s, out: s, err: s, environ: env, inTTY: true, outTTY: true}
		go func() { done <- run(context.Background(), []string{"ganger", "attach", "-d", root, "web.1"}, st) }()
		return done
	}

	h.att = newPipeAttached()
	done := attach()
	screen.waitFor(t, "ganger: attached to web.1; press Ctrl-] to detach")
	if got := recv(t, "the size at attach", h.sizes); got != (control.Size{Cols: 80, Rows: 24}) {
		t.Errorf("attached with size %+v, want 80x24", got)
	}
	go h.att.out.Write([]byte("(Pdb) "))
	screen.waitFor(t, "(Pdb) ")
	// Raw: CR stays CR, Ctrl-C is a byte, not SIGINT.
	if _, err := m.Write([]byte("p 1\r\x03")); err != nil {
		t.Fatal(err)
	}
	var in []byte
	for len(in) < len("p 1\r\x03") {
		in = append(in, recv(t, "input", h.att.input)...)
	}
	if string(in) != "p 1\r\x03" {
		t.Errorf("the process got %q, want %q", in, "p 1\r\x03")
	}
	if err := pty.Setsize(m, &pty.Winsize{Cols: 120, Rows: 40}); err != nil {
		t.Fatal(err)
	}
	// The slave is not our controlling terminal: send the SIGWINCH its
	// resize would send to its foreground group.
	syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	for {
		if sz := recv(t, "a resize to 120x40", h.att.resizes); sz == (control.Size{Cols: 120, Rows: 40}) {
			break
		}
	}
	if _, err := m.Write([]byte{'q', detachKey}); err != nil {
		t.Fatal(err)
	}
	if code := recv(t, "the end of attach after Ctrl-]", done); code != 0 {
		t.Errorf("detach: exit %d, want 0", code)
	}
	screen.waitFor(t, "ganger: detached from web.1; it keeps running")
	recv(t, "the server to close the attachment", h.att.closed)
	if got := recv(t, "input", h.att.input); string(got) != "q" {
		t.Errorf("before Ctrl-] the process got %q, want q", got)
	}
	now, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if now.Lflag != cooked.Lflag || now.Iflag != cooked.Iflag || now.Oflag != cooked.Oflag {
		t.Errorf("terminal not restored: lflag %#x iflag %#x oflag %#x, want %#x %#x %#x", now.Lflag, now.Iflag, now.Oflag, cooked.Lflag, cooked.Iflag, cooked.Oflag)
	}

	// The process exits: attach ends, and says so.
	h.att = newPipeAttached()
	done = attach()
	recv(t, "the second attach", h.sizes)
	go func() {
		h.att.out.Write([]byte("bye\r\n"))
		h.att.out.Close()
	}()
	if code := recv(t, "the end of attach after the exit", done); code != 0 {
		t.Errorf("exit: exit %d, want 0", code)
	}
	screen.waitFor(t, "bye\r\nganger: web.1 exited")
}

// TestAttachNeedsTerminal refuses a stdin that is not a terminal.
func TestAttachNeedsTerminal(t *testing.T) {
	var errOut bytes.Buffer
	st := &streams{in: strings.NewReader(""), out: io.Discard, err: &errOut}
	if code := run(context.Background(), []string{"ganger", "attach", "web.1"}, st); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "ganger attach needs a terminal") || !strings.Contains(errOut.String(), "ganger logs -f web.1") {
		t.Errorf("stderr %q", errOut.String())
	}
}
