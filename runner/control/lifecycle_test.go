//go:build linux || darwin

package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNotRunning(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e testEnv)
	}{
		{"no dir", func(t *testing.T, e testEnv) {}},
		{"no socket", func(t *testing.T, e testEnv) {
			dir, _, _ := e.paths(t)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"stale socket", makeStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.setup(t, e)
			_, sock, _ := e.paths(t)
			root, err := canonicalRoot(e.root)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Status(ctxT(t), e.root, e.opt)
			want := fmt.Sprintf("no ganger is running for %s (socket %s)", root, sock)
			if !errors.Is(err, ErrNotRunning) || err.Error() != want {
				t.Fatalf("err = %v, want ErrNotRunning saying %q", err, want)
			}
		})
	}
}

// makeStale leaves a socket file nothing listens on, as a crashed run does.
func makeStale(t *testing.T, e testEnv) {
	t.Helper()
	dir, sock, _ := e.paths(t)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	e := newEnv(t)
	makeStale(t, e)
	_, _, lock := e.paths(t)
	// A crashed run also leaves its lock file behind, unlocked.
	mkdirMode(t, filepath.Dir(lock), 0o700)
	if err := os.WriteFile(lock, []byte("999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serve(t, e, &fakeHandler{procs: []Process{{Name: "web.1"}}})
	procs, err := Status(ctxT(t), e.root, e.opt)
	if err != nil || len(procs) != 1 {
		t.Fatalf("Status after replacing a stale socket = %v, %v", procs, err)
	}
}

// One server per app, wherever its socket goes: the lock is in the app's
// .ganger, so a second start with another TMPDIR (another socket dir) is
// refused too, and told the first one's pid and socket.
func TestSecondServerRefused(t *testing.T) {
	tests := []struct {
		name      string
		serving   bool // the first server answers (else it only listens)
		otherTemp bool // the second has another socket dir
		ctx       func() (context.Context, context.CancelFunc)
	}{
		{"serving", true, false, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Second)
		}},
		{"serving, another socket dir", true, true, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Second)
		}},
		// Not answering yet: the pid comes from the lock file once the
		// hello times out.
		{"listening only", false, false, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}},
		{"listening only, another socket dir", false, true, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			var first *Server
			if tt.serving {
				first, _ = serve(t, e, &fakeHandler{})
			} else {
				var err error
				if first, err = Listen(context.Background(), e.root, e.opt); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { first.Close() })
			}
			opt := e.opt
			if tt.otherTemp {
				opt = Options{TempDir: t.TempDir()}
			}
			ctx, cancel := tt.ctx()
			defer cancel()
			second, err := Listen(ctx, e.root, opt)
			if err == nil {
				second.Close()
				t.Fatal("second Listen for the same root succeeded")
			}
			var are *AlreadyRunningError
			want := fmt.Sprintf("ganger is already running for %s (pid %d); stop it or use its socket %s",
				first.Root(), os.Getpid(), first.Socket())
			if !errors.As(err, &are) || are.PID != os.Getpid() || err.Error() != want {
				t.Fatalf("err = %v\nwant %s", err, want)
			}
			// The refused server must leave the first one's socket alone.
			fi, err := os.Lstat(first.Socket())
			if err != nil || !os.SameFile(fi, first.sockInfo) {
				t.Fatalf("first server's socket disturbed: %v", err)
			}
			if tt.serving {
				if _, err := Status(ctxT(t), e.root, e.opt); err != nil {
					t.Fatalf("first server unreachable after the refused Listen: %v", err)
				}
			}
			if tt.otherTemp {
				if _, err := os.Lstat(filepath.Join(opt.TempDir, "ganger-"+itoa(os.Getuid()))); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the refused server made its socket dir (err %v)", err)
				}
			}
		})
	}
}

// ganger makes the app's .ganger when it is missing, 0700 with a
// .gitignore of "*", and takes one that is there as it is.
func TestAppDir(t *testing.T) {
	t.Run("created", func(t *testing.T) {
		e := newEnv(t)
		srv, err := Listen(ctxT(t), e.root, e.opt)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		gdir := filepath.Join(e.root, ".ganger")
		fi, err := os.Lstat(gdir)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Fatalf(".ganger = %v, %v; want a directory with mode 0700", fi, err)
		}
		b, err := os.ReadFile(filepath.Join(gdir, ".gitignore"))
		if err != nil || !strings.HasSuffix(string(b), "\n*\n") {
			t.Errorf(".ganger/.gitignore = %q, %v; want it to ignore everything (*)", b, err)
		}
		b, err = os.ReadFile(filepath.Join(gdir, "start.lock"))
		if want := fmt.Sprintf("%d\n%s\n", os.Getpid(), srv.Socket()); err != nil || string(b) != want {
			t.Errorf("start.lock = %q, %v; want %q", b, err, want)
		}
	})
	t.Run("there", func(t *testing.T) {
		e := newEnv(t)
		gdir := filepath.Join(e.root, ".ganger")
		mkdirMode(t, gdir, 0o755) // as an older ganger build left it
		srv, err := Listen(ctxT(t), e.root, e.opt)
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if fi, err := os.Lstat(gdir); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf(".ganger = %v, %v; want it left as it was (0755)", fi, err)
		}
		if _, err := os.Lstat(filepath.Join(gdir, ".gitignore")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf(".gitignore written into a .ganger ganger did not create (err %v)", err)
		}
	})
}

func TestServeCleansUp(t *testing.T) {
	e := newEnv(t)
	_, sock, lock := e.paths(t)
	_, stop := serve(t, e, &fakeHandler{})
	if err := stop(); err != nil {
		t.Fatalf("Serve returned %v after cancel, want nil", err)
	}
	for _, p := range []string{sock, lock} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after Serve returned (err %v)", p, err)
		}
	}
	if _, err := Status(ctxT(t), e.root, e.opt); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Status after shutdown = %v, want ErrNotRunning", err)
	}
	// And the root can be served again.
	serve(t, e, &fakeHandler{})
	if _, err := Status(ctxT(t), e.root, e.opt); err != nil {
		t.Fatal(err)
	}
}

func TestCleanupLeavesForeignSocket(t *testing.T) {
	e := newEnv(t)
	_, sock, _ := e.paths(t)
	_, stop := serve(t, e, &fakeHandler{})
	// Someone replaced our socket file; it is not ours to remove.
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sock, []byte("not ours"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(sock); err != nil || string(b) != "not ours" {
		t.Fatalf("foreign file at the socket path removed or changed: %q, %v", b, err)
	}
}

func TestCloseWithoutServe(t *testing.T) {
	e := newEnv(t)
	_, sock, lock := e.paths(t)
	srv, err := Listen(ctxT(t), e.root, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, p := range []string{sock, lock} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there after Close (err %v)", p, err)
		}
	}
	if err := srv.Serve(ctxT(t), &fakeHandler{}); err != nil {
		t.Errorf("Serve after Close = %v, want nil (nothing to serve)", err)
	}
}

func TestLongRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, strings.Repeat("a", 100), strings.Repeat("b", 100), strings.Repeat("c", 100))
	if len(root) < 300 {
		t.Fatalf("root is only %d bytes", len(root))
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	e := testEnv{root: root, opt: Options{TempDir: t.TempDir()}}
	serve(t, e, &fakeHandler{procs: []Process{{Name: "web.1"}}})
	if _, err := Status(ctxT(t), filepath.Join(root, "."), e.opt); err != nil {
		t.Fatal(err)
	}
	_, sock, _ := e.paths(t)
	if len(sock) >= maxSocketPath {
		t.Errorf("socket path is %d bytes", len(sock))
	}
}

func TestSocketDirTooLong(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), strings.Repeat("x", 120))
	_, err := Listen(ctxT(t), t.TempDir(), Options{TempDir: tmp})
	if err == nil || !strings.Contains(err.Error(), "byte limit of Unix sockets; set XDG_RUNTIME_DIR or TMPDIR") {
		t.Fatalf("err = %v, want the socket path length error", err)
	}
}

func TestRefusesPlantedPaths(t *testing.T) {
	tests := []struct {
		name       string
		plant      func(t *testing.T, dir, sock, lock string)
		wantListen string
		wantClient string // "" if the client is not affected
	}{
		{"dir is a symlink", func(t *testing.T, dir, sock, lock string) {
			target := privateDir(t) // a 0700 dir of ours
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
		}, "is a symlink", "is a symlink"},
		{"dir is a file", func(t *testing.T, dir, sock, lock string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a directory", "is not a directory"},
		{"dir mode 0755", func(t *testing.T, dir, sock, lock string) { mkdirMode(t, dir, 0o755) },
			"mode is 0755, want 0700; run chmod 700", "mode is 0755"},
		{"dir mode 0770", func(t *testing.T, dir, sock, lock string) { mkdirMode(t, dir, 0o770) },
			"mode is 0770", "mode is 0770"},
		{"socket is a symlink", func(t *testing.T, dir, sock, lock string) {
			mkdirMode(t, dir, 0o700)
			// Even to a live socket of ours: never followed.
			other := testEnv{root: t.TempDir(), opt: Options{TempDir: t.TempDir()}}
			srv, _ := serve(t, other, &fakeHandler{})
			if err := os.Symlink(srv.Socket(), sock); err != nil {
				t.Fatal(err)
			}
		}, "refusing control socket", "is a symlink"},
		{"socket is a file", func(t *testing.T, dir, sock, lock string) {
			mkdirMode(t, dir, 0o700)
			if err := os.WriteFile(sock, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a socket", "is not a socket"},
		{"lock is a symlink", func(t *testing.T, dir, sock, lock string) {
			mkdirMode(t, filepath.Dir(lock), 0o700)
			if err := os.Symlink(filepath.Join(t.TempDir(), "x"), lock); err != nil {
				t.Fatal(err)
			}
		}, "refusing lock file " + "%LOCK%: it is a symlink", ""},
		{".ganger is a symlink", func(t *testing.T, dir, sock, lock string) {
			if err := os.Symlink(privateDir(t), filepath.Dir(lock)); err != nil {
				t.Fatal(err)
			}
		}, "refusing %GDIR%: it is a symlink", ""},
		{".ganger is a file", func(t *testing.T, dir, sock, lock string) {
			if err := os.WriteFile(filepath.Dir(lock), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "refusing %GDIR%: it is not a directory", ""},
		{".ganger is another user's", func(t *testing.T, dir, sock, lock string) {
			if os.Getuid() != 0 {
				t.Skip("needs root to give .ganger to another uid")
			}
			mkdirMode(t, filepath.Dir(lock), 0o700)
			if err := os.Chown(filepath.Dir(lock), 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "refusing %GDIR%: it is owned by uid 65534, not by you", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			dir, sock, lock := e.paths(t)
			tt.plant(t, dir, sock, lock)
			links := map[string]string{}
			for _, p := range []string{dir, sock, filepath.Dir(lock), lock} {
				if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
					links[p], _ = os.Readlink(p)
				}
			}
			srv, err := Listen(ctxT(t), e.root, e.opt)
			if err == nil {
				srv.Close()
				t.Fatal("Listen succeeded")
			}
			wantListen := strings.NewReplacer("%LOCK%", lock, "%GDIR%", filepath.Dir(lock)).Replace(tt.wantListen)
			if !strings.Contains(err.Error(), wantListen) {
				t.Errorf("Listen err = %v, want it to mention %q", err, wantListen)
			}
			if tt.wantClient != "" {
				_, err := Status(ctxT(t), e.root, e.opt)
				if err == nil || errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), tt.wantClient) {
					t.Errorf("Status err = %v, want a refusal mentioning %q", err, tt.wantClient)
				}
			}
			for p, target := range links {
				if got, err := os.Readlink(p); err != nil || got != target {
					t.Errorf("planted symlink %s changed: %q, %v", p, got, err)
				}
			}
		})
	}
}

func mkdirMode(t *testing.T, dir string, mode fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func TestClientContextCancel(t *testing.T) {
	e := newEnv(t)
	h := &fakeHandler{entered: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(h.release)
	serve(t, e, h)
	ctx, cancel := context.WithCancel(ctxT(t))
	errc := make(chan error, 1)
	go func() { errc <- Restart(ctx, e.root, []string{"web"}, e.opt) }()
	<-h.entered
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Restart did not return after its context was cancelled")
	}
}

func TestServeCancelsHandlers(t *testing.T) {
	e := newEnv(t)
	h := &fakeHandler{entered: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(h.release)
	_, stop := serve(t, e, h)
	errc := make(chan error, 1)
	go func() { errc <- Restart(ctxT(t), e.root, nil, e.opt) }()
	<-h.entered
	if err := stop(); err != nil { // waits for the handler, which sees ctx done
		t.Fatal(err)
	}
	err := <-errc
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "ganger is shutting down") {
		t.Fatalf("Restart during shutdown = %v, want a RemoteError saying ganger is shutting down", err)
	}
}

// rawExchange sends raw bytes to the server and returns its decoded answer.
func rawExchange(t *testing.T, sock, payload string) response {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, payload); err != nil {
		t.Fatal(err)
	}
	c.(*net.UnixConn).CloseWrite()
	var resp response
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	if err := json.Unmarshal([]byte(line), &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestProtocolErrors(t *testing.T) {
	e := newEnv(t)
	h := &fakeHandler{}
	srv, _ := serve(t, e, h)
	tests := []struct{ payload, want string }{
		{`{"v":99,"op":"status"}` + "\n", "control protocol version 99 is not supported"},
		{`{"op":"status"}`, "control protocol version 0 is not supported"},
		{`{"v":1,"op":"nuke"}` + "\n", `unknown control request "nuke"`},
		{`not json`, "bad control request"},
		{``, "bad control request: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.payload, func(t *testing.T) {
			resp := rawExchange(t, srv.Socket(), tt.payload)
			if !strings.Contains(resp.Error, tt.want) || resp.V != Version || resp.PID != os.Getpid() {
				t.Fatalf("answer = %+v, want v %d, our pid and an error containing %q", resp, Version, tt.want)
			}
		})
	}
	if calls, _ := h.getCalls(); len(calls) != 0 {
		t.Errorf("handler called for bad requests: %q", calls)
	}
}

// The helper process: when GANGER_CONTROL_TEST_DIAL names a socket, the test
// binary dials it, sends a status request and prints the answer.
func TestMain(m *testing.M) {
	if sock := os.Getenv("GANGER_CONTROL_TEST_DIAL"); sock != "" {
		c, err := net.Dial("unix", sock)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		io.WriteString(c, `{"v":1,"op":"status"}`+"\n")
		io.Copy(os.Stdout, c)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPeerOfOtherUIDRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to connect as another uid")
	}
	const nobody = 65534
	// Everything the other uid touches must be reachable by it; the socket
	// dir normally is not, so open it up for this test only.
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e := testEnv{root: t.TempDir(), opt: Options{TempDir: base}}
	h := &fakeHandler{procs: []Process{{Name: "web.1"}}}
	srv, _ := serve(t, e, h)
	if err := os.Chmod(filepath.Dir(srv.Socket()), 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(srv.Socket(), 0o666); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "helper")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"GANGER_CONTROL_TEST_DIAL=" + srv.Socket()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	// The refusal and nothing else: not the server's pid, not the root.
	want := fmt.Sprintf(`{"v":%d,"error":"control connection refused: peer uid %d is not ganger's uid 0"}`+"\n", Version, nobody)
	if string(out) != want {
		t.Errorf("answer to uid %d = %s, want only the refusal: %s", nobody, out, want)
	}
	for _, leak := range []string{`"pid"`, strconv.Itoa(os.Getpid()), `"root"`, srv.Root(), "web.1"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("answer to uid %d carries %s: %s", nobody, leak, out)
		}
	}
	if calls, _ := h.getCalls(); len(calls) != 0 {
		t.Errorf("handler called for a foreign peer: %q", calls)
	}
}

// A refused peer gets the refusal alone: not the server's pid, not the app
// root. Without root to connect as another uid, the server is made to
// expect another uid than ours.
func TestRefusalCarriesNothingElse(t *testing.T) {
	e := newEnv(t)
	srv, err := Listen(ctxT(t), e.root, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	srv.uid = os.Getuid() + 1
	h := &fakeHandler{procs: []Process{{Name: "web.1"}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, h) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	c, err := net.Dial("unix", srv.Socket())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// The refusal comes at once, before any request is read (one sent
	// would reset the connection when the server closes it unread).
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%v after %q", err, out)
	}
	want := fmt.Sprintf(`{"v":%d,"error":"control connection refused: peer uid %d is not ganger's uid %d"}`+"\n", Version, os.Getuid(), os.Getuid()+1)
	if string(out) != want {
		t.Errorf("answer = %s, want only the refusal: %s", out, want)
	}
	for _, leak := range []string{`"pid"`, strconv.Itoa(os.Getpid()), `"root"`, srv.Root(), "web.1"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("the refusal carries %s: %s", leak, out)
		}
	}
	if calls, _ := h.getCalls(); len(calls) != 0 {
		t.Errorf("handler called for a refused peer: %q", calls)
	}
}

// When another user got to the usual socket dir first (TMPDIR/ganger-UID is
// a name anyone can take), the server and its clients use
// HOME/.cache/ganger/sock instead, and leave the other user's file alone.
func TestForeignSocketDir(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give a directory to another uid (chown)")
	}
	const other = 65534
	uid := os.Getuid()
	give := func(t *testing.T, p string) {
		t.Helper()
		if err := os.Lchown(p, other, other); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		plant  func(t *testing.T, usual string)
		remove bool // the other user removes it once the server runs
	}{
		{"directory", func(t *testing.T, usual string) { mkdirMode(t, usual, 0o700); give(t, usual) }, false},
		{"directory open to all", func(t *testing.T, usual string) { mkdirMode(t, usual, 0o777); give(t, usual) }, false},
		{"symlink to a dir of ours", func(t *testing.T, usual string) {
			if err := os.Symlink(privateDir(t), usual); err != nil {
				t.Fatal(err)
			}
			give(t, usual)
		}, false},
		{"file", func(t *testing.T, usual string) {
			if err := os.WriteFile(usual, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			give(t, usual)
		}, false},
		{"directory removed after the start", func(t *testing.T, usual string) { mkdirMode(t, usual, 0o700); give(t, usual) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Short: the fallback dir is deeper than the usual one.
			home, err := os.MkdirTemp("", "home")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(home) })
			e := testEnv{root: t.TempDir(), opt: Options{TempDir: t.TempDir(), HomeDir: home}}
			usual := filepath.Join(e.opt.TempDir, "ganger-"+itoa(uid))
			tt.plant(t, usual)
			before, err := os.Lstat(usual)
			if err != nil {
				t.Fatal(err)
			}
			srv, _ := serve(t, e, &fakeHandler{procs: []Process{{Name: "web.1"}}})
			want := filepath.Join(home, ".cache", "ganger", "sock")
			if dir := filepath.Dir(srv.Socket()); dir != want || srv.Displaced() != usual {
				t.Fatalf("socket in %s, displaced %q; want it in %s, displaced by %s", dir, srv.Displaced(), want, usual)
			}
			if fi, err := os.Lstat(want); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
				t.Errorf("fallback dir = %v, %v; want a directory with mode 0700", fi, err)
			}
			if sock, err := SocketPath(e.root, e.opt); err != nil || sock != srv.Socket() {
				t.Errorf("SocketPath = %s, %v; want the server's %s", sock, err, srv.Socket())
			}
			if tt.remove {
				if err := os.Remove(usual); err != nil {
					t.Fatal(err)
				}
			}
			if procs, err := Status(ctxT(t), e.root, e.opt); err != nil || len(procs) != 1 {
				t.Fatalf("Status = %v, %v; want the server in the fallback dir", procs, err)
			}
			if tt.remove {
				return
			}
			after, err := os.Lstat(usual)
			if err != nil || !os.SameFile(before, after) || ownerOf(after) != other {
				t.Errorf("the other user's %s changed: %v", usual, err)
			}
			if after.IsDir() {
				if ents, err := os.ReadDir(usual); err != nil || len(ents) != 0 {
					t.Errorf("something written in the other user's %s: %v, %v", usual, ents, err)
				}
			}
		})
	}
	t.Run("no HOME", func(t *testing.T) {
		e := newEnv(t)
		usual := filepath.Join(e.opt.TempDir, "ganger-"+itoa(uid))
		mkdirMode(t, usual, 0o700)
		give(t, usual)
		srv, err := Listen(ctxT(t), e.root, e.opt)
		if err == nil {
			srv.Close()
			t.Fatal("Listen succeeded in another user's directory")
		}
		if want := fmt.Sprintf("refusing control socket dir %s: it is owned by uid %d", usual, other); !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to say %q", err, want)
		}
	})
}
