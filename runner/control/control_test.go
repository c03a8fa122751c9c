//go:build linux || darwin

package control

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHandler records calls and answers from its fields.
type fakeHandler struct {
	procs []Process
	err   error

	// entered, if set, receives once per Restart call, which then blocks
	// until ctx is done or release is closed.
	entered chan struct{}
	release chan struct{}

	// Logs sends records (the last Lines of them) and, with Follow,
	// follow too, then waits for ctx and closes logsEnded. logsErr, when
	// set, is returned after sending sendBeforeErr records.
	records       []Record
	follow        []Record
	logsErr       error
	sendBeforeErr int
	logsEnded     chan struct{}

	// Attach answers with attached (nil: attachErr) and records the size.
	attached  *fakeAttached
	attachErr error

	// quitCalled, if set, is closed by Quit.
	quitCalled chan struct{}

	mu    sync.Mutex
	calls []string // "status", "restart a b", "stop"
	names [][]string
	size  Size
}

func (h *fakeHandler) record(op string, names []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, strings.TrimSpace(op+" "+strings.Join(names, " ")))
	h.names = append(h.names, names)
}

func (h *fakeHandler) Status(ctx context.Context) ([]Process, error) {
	h.record("status", nil)
	return h.procs, h.err
}

func (h *fakeHandler) Restart(ctx context.Context, names []string) error {
	h.record("restart", names)
	if h.entered != nil {
		h.entered <- struct{}{}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.release:
		}
	}
	return h.err
}

func (h *fakeHandler) Stop(ctx context.Context, names []string) error {
	h.record("stop", names)
	return h.err
}

func (h *fakeHandler) Logs(ctx context.Context, req LogsRequest, send func(Record) error) error {
	h.record("logs", req.Names)
	if h.logsErr != nil {
		for _, r := range h.records[:h.sendBeforeErr] {
			if err := send(r); err != nil {
				return err
			}
		}
		return h.logsErr
	}
	recent := h.records[max(0, len(h.records)-req.Lines):]
	for _, r := range recent {
		if err := send(r); err != nil {
			return err
		}
	}
	if !req.Follow {
		return nil
	}
	for _, r := range h.follow {
		if err := send(r); err != nil {
			return err
		}
	}
	<-ctx.Done()
	if h.logsEnded != nil {
		close(h.logsEnded)
	}
	return ctx.Err()
}

func (h *fakeHandler) Attach(ctx context.Context, name string, size Size) (Attached, error) {
	h.record("attach", []string{name})
	h.mu.Lock()
	h.size = size
	h.mu.Unlock()
	if h.attached == nil {
		return nil, h.attachErr
	}
	return h.attached, nil
}

func (h *fakeHandler) Quit(ctx context.Context) error {
	h.record("quit", nil)
	if h.quitCalled != nil {
		close(h.quitCalled)
	}
	return h.err
}

func (h *fakeHandler) getCalls() ([]string, [][]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...), append([][]string(nil), h.names...)
}

// testEnv is one test's app root and socket options.
type testEnv struct {
	root string
	opt  Options
}

func newEnv(t *testing.T) testEnv {
	t.Helper()
	return testEnv{root: t.TempDir(), opt: Options{TempDir: t.TempDir()}}
}

func (e testEnv) paths(t *testing.T) (dir, sock, lock string) {
	t.Helper()
	sock, err := SocketPath(e.root, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(sock), sock, filepath.Join(e.root, ".ganger", "start.lock")
}

// serve listens and serves h until the test ends or stop is called; stop
// returns Serve's error.
func serve(t *testing.T, e testEnv, h Handler) (srv *Server, stop func() error) {
	t.Helper()
	srv, err := Listen(context.Background(), e.root, e.opt)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, h) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return 10s after its context was cancelled")
			}
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return srv, stop
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func intp(n int) *int { return &n }

func TestRoundTrip(t *testing.T) {
	started := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)
	procs := []Process{
		{Name: "web.1", Type: "web", State: StateRunning, PID: 4242, Port: 5000, Started: started, Restarts: 1},
		{Name: "worker.1", Type: "worker", State: StateCrashed, Port: 5100, Restarts: 3, ExitCode: intp(2)},
		{Name: "clock.1", Type: "clock", State: StateStopped, Signal: "SIGTERM"},
	}
	e := newEnv(t)
	h := &fakeHandler{procs: procs}
	serve(t, e, h)
	ctx := ctxT(t)

	tests := []struct {
		name      string
		do        func() error
		wantCall  string
		wantNames []string
	}{
		{"status", func() error {
			got, err := Status(ctx, e.root, e.opt)
			if err == nil && !reflect.DeepEqual(got, procs) {
				t.Errorf("Status = %+v\nwant %+v", got, procs)
			}
			return err
		}, "status", nil},
		{"restart named", func() error { return Restart(ctx, e.root, []string{"web", "worker.1"}, e.opt) }, "restart web worker.1", []string{"web", "worker.1"}},
		{"restart all", func() error { return Restart(ctx, e.root, nil, e.opt) }, "restart", nil},
		{"stop named", func() error { return Stop(ctx, e.root, []string{"clock"}, e.opt) }, "stop clock", []string{"clock"}},
		{"stop all", func() error { return Stop(ctx, e.root, []string{}, e.opt) }, "stop", nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); err != nil {
				t.Fatal(err)
			}
			calls, names := h.getCalls()
			if len(calls) != i+1 || calls[i] != tt.wantCall {
				t.Fatalf("handler calls = %q, want call %d to be %q", calls, i, tt.wantCall)
			}
			if len(names[i]) != len(tt.wantNames) || (len(tt.wantNames) > 0 && !reflect.DeepEqual(names[i], tt.wantNames)) {
				t.Errorf("names = %q, want %q", names[i], tt.wantNames)
			}
		})
	}
}

func TestStatusEmpty(t *testing.T) {
	e := newEnv(t)
	serve(t, e, &fakeHandler{})
	got, err := Status(ctxT(t), e.root, e.opt)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Status = %#v, %v; want an empty non-nil list", got, err)
	}
}

func TestInfo(t *testing.T) {
	e := newEnv(t)
	srv, _ := serve(t, e, &fakeHandler{})
	info, err := Info(ctxT(t), e.root, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	want := ServerInfo{PID: os.Getpid(), Root: srv.Root(), Version: Version}
	if info != want {
		t.Errorf("Info = %+v, want %+v", info, want)
	}
}

func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t)
	serve(t, e, &fakeHandler{procs: []Process{{Name: "web.1"}}})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := Status(ctx, e.root, e.opt); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestHandlerErrorsPropagate(t *testing.T) {
	const msg = `unknown process "wbe"; known: web, worker`
	e := newEnv(t)
	serve(t, e, &fakeHandler{err: errors.New(msg), procs: []Process{{Name: "web.1"}}})
	ctx := ctxT(t)
	tests := []struct {
		op string
		do func() error
	}{
		{opStatus, func() error {
			procs, err := Status(ctx, e.root, e.opt)
			if procs != nil {
				t.Errorf("Status returned procs %v with an error", procs)
			}
			return err
		}},
		{opRestart, func() error { return Restart(ctx, e.root, []string{"wbe"}, e.opt) }},
		{opStop, func() error { return Stop(ctx, e.root, []string{"wbe"}, e.opt) }},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			err := tt.do()
			var re *RemoteError
			if !errors.As(err, &re) || re.Op != tt.op || err.Error() != msg {
				t.Fatalf("err = %#v (%v), want RemoteError{Op: %q} saying %q", err, err, tt.op, msg)
			}
		})
	}
}

func TestSocketAndDirModes(t *testing.T) {
	tests := []struct {
		name    string
		opt     func(t *testing.T) Options
		wantDir func(opt Options) string
	}{
		{"temp dir", func(t *testing.T) Options { return Options{TempDir: t.TempDir()} },
			func(o Options) string { return filepath.Join(o.TempDir, "ganger-"+itoa(os.Getuid())) }},
		{"runtime dir", func(t *testing.T) Options { return Options{RuntimeDir: privateDir(t), TempDir: t.TempDir()} },
			func(o Options) string { return filepath.Join(o.RuntimeDir, "ganger") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEnv{root: t.TempDir(), opt: tt.opt(t)}
			srv, _ := serve(t, e, &fakeHandler{})
			dir, sock, _ := e.paths(t)
			if dir != tt.wantDir(e.opt) || srv.Socket() != sock {
				t.Fatalf("socket %s (server says %s), want it in %s", sock, srv.Socket(), tt.wantDir(e.opt))
			}
			fi, err := os.Lstat(sock)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
				t.Errorf("socket mode = %v, want a socket with 0600", fi.Mode())
			}
			di, err := os.Lstat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !di.IsDir() || di.Mode().Perm() != 0o700 {
				t.Errorf("dir mode = %v, want a directory with 0700", di.Mode())
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// privateDir is a t.TempDir with mode 0700, as XDG_RUNTIME_DIR is.
func privateDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}
