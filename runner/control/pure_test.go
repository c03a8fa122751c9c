//go:build linux || darwin

package control

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckDir(t *testing.T) {
	tests := []struct {
		name  string
		mode  fs.FileMode
		owner uint32
		uid   int
		want  string // "" for ok
	}{
		{"ours 0700", fs.ModeDir | 0o700, 1000, 1000, ""},
		{"root's 0700", fs.ModeDir | 0o700, 0, 0, ""},
		{"other owner", fs.ModeDir | 0o700, 1001, 1000, "owned by uid 1001, not by you (uid 1000)"},
		{"root-owned, we are a user", fs.ModeDir | 0o700, 0, 1000, "owned by uid 0"},
		{"group readable", fs.ModeDir | 0o750, 1000, 1000, "mode is 0750, want 0700"},
		{"world writable sticky", fs.ModeDir | fs.ModeSticky | 0o777, 1000, 1000, "mode is 0777"},
		{"owner cannot write", fs.ModeDir | 0o500, 1000, 1000, "mode is 0500"},
		{"symlink", fs.ModeSymlink | 0o777, 1000, 1000, "is a symlink"},
		{"file", 0o700, 1000, 1000, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErr(t, checkDir("/tmp/ganger-1000", tt.mode, tt.owner, tt.uid), tt.want)
		})
	}
}

func TestCheckSocket(t *testing.T) {
	tests := []struct {
		name  string
		mode  fs.FileMode
		owner uint32
		uid   int
		want  string
	}{
		{"ours", fs.ModeSocket | 0o600, 1000, 1000, ""},
		{"other owner", fs.ModeSocket | 0o600, 1001, 1000, "owned by uid 1001, not by you (uid 1000)"},
		{"symlink", fs.ModeSymlink | 0o777, 1000, 1000, "is a symlink"},
		{"regular file", 0o600, 1000, 1000, "not a socket"},
		{"fifo", fs.ModeNamedPipe | 0o600, 1000, 1000, "not a socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErr(t, checkSocket("/tmp/ganger-1000/x.sock", tt.mode, tt.owner, tt.uid), tt.want)
		})
	}
}

func TestCheckPeer(t *testing.T) {
	assertErr(t, checkPeer(1000, 1000), "")
	assertErr(t, checkPeer(0, 0), "")
	assertErr(t, checkPeer(1001, 1000), "peer uid 1001 is not ganger's uid 1000")
	assertErr(t, checkPeer(0, 1000), "peer uid 0 is not ganger's uid 1000")
}

func assertErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("err = %v, want nil", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("err = %v, want it to contain %q", err, want)
	}
}

func TestSocketDirChoice(t *testing.T) {
	uid := os.Getuid()
	good := privateDir(t) // 0700, ours
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	fallback := filepath.Join(tmp, "ganger-"+itoa(uid))
	tests := []struct {
		name string
		opt  Options
		want string
	}{
		{"runtime dir", Options{RuntimeDir: good, TempDir: tmp}, filepath.Join(good, "ganger")},
		{"runtime dir unset", Options{TempDir: tmp}, fallback},
		{"runtime dir relative", Options{RuntimeDir: "run", TempDir: tmp}, fallback},
		{"runtime dir missing", Options{RuntimeDir: filepath.Join(good, "nope"), TempDir: tmp}, fallback},
		{"runtime dir open to others", Options{RuntimeDir: open, TempDir: tmp}, fallback},
		{"runtime dir a symlink", Options{RuntimeDir: link, TempDir: tmp}, fallback},
		{"no temp dir", Options{}, "/tmp/ganger-" + itoa(uid)},
		{"relative temp dir", Options{TempDir: "tmp"}, "/tmp/ganger-" + itoa(uid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := socketDir(tt.opt, uid); got != tt.want {
				t.Errorf("socketDir = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDefaultOptions(t *testing.T) {
	env := map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "TMPDIR": "/var/tmp", "HOME": "/home/you"}
	got := DefaultOptions(func(k string) string { return env[k] })
	if want := (Options{RuntimeDir: "/run/user/1000", TempDir: "/var/tmp", HomeDir: "/home/you"}); got != want {
		t.Errorf("DefaultOptions = %+v, want %+v", got, want)
	}
}

func TestSocketPathCanonical(t *testing.T) {
	opt := Options{TempDir: t.TempDir()}
	root := t.TempDir()
	link := filepath.Join(t.TempDir(), "app")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	want, err := SocketPath(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(want, ".sock") || len(filepath.Base(want)) != 16+len(".sock") {
		t.Errorf("socket name %s, want 16 hex digits + .sock", filepath.Base(want))
	}
	for _, spelling := range []string{root + "/", root + "/.", link, filepath.Join(root, "x", "..")} {
		if got, err := SocketPath(spelling, opt); err != nil || got != want {
			t.Errorf("SocketPath(%s) = %s, %v; want %s", spelling, got, err, want)
		}
	}
	if got, _ := SocketPath(other, opt); got == want {
		t.Errorf("two roots share socket %s", got)
	}
	if _, err := SocketPath("", opt); err == nil {
		t.Error("SocketPath of an empty root succeeded")
	}
}

func TestWriteTable(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	procs := []Process{
		{Name: "web.1", Type: "web", State: StateRunning, PID: 4242, Port: 5000, Started: now.Add(-185 * time.Second)},
		{Name: "worker.1", Type: "worker", State: StateCrashed, Port: 5100, Restarts: 2, ExitCode: intp(1)},
		{Name: "clock.1", Type: "clock", State: StateBackingOff, Restarts: 12, Signal: "SIGKILL"},
		{Name: "release.1", Type: "release", State: StateExited, ExitCode: intp(0), Started: now.Add(-time.Hour)},
		{Name: "evil\x1b]52;c;\a.1", Type: "evil", State: StateStopped},
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, procs, now); err != nil {
		t.Fatal(err)
	}
	want := `NAME                STATE        PID   PORT  UPTIME  RESTARTS  EXIT
web.1               running      4242  5000  3m05s   0         -
worker.1            crashed      -     5100  -       2         1
clock.1             backing-off  -     -     -       12        SIGKILL
release.1           exited       -     -     -       0         0
evil\x1b]52;c;\a.1  stopped      -     -     -       0         -
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatUptime(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{59*time.Second + 999*time.Millisecond, "59s"},
		{time.Minute, "1m00s"},
		{59*time.Minute + 7*time.Second, "59m07s"},
		{time.Hour + 5*time.Minute, "1h05m"},
		{23*time.Hour + 59*time.Minute, "23h59m"},
		{50 * time.Hour, "2d02h"},
	}
	for _, tt := range tests {
		if got := formatUptime(tt.d); got != tt.want {
			t.Errorf("formatUptime(%v) = %s, want %s", tt.d, got, tt.want)
		}
	}
}

// TestProcessJSON pins the "ps --json" shape.
func TestProcessJSON(t *testing.T) {
	procs := []Process{
		{Name: "web.1", Type: "web", State: StateRunning, PID: 42, Port: 5000,
			Started: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), Restarts: 1},
		{Name: "worker.1", Type: "worker", State: StateCrashed, ExitCode: intp(3)},
		{Name: "clock.1", Type: "clock", State: StateStopped, Signal: "SIGTERM"},
	}
	b, err := json.Marshal(procs)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"web.1","type":"web","state":"running","pid":42,"port":5000,"started":"2026-01-02T15:04:05Z","restarts":1,"exit_code":null},` +
		`{"name":"worker.1","type":"worker","state":"crashed","pid":0,"port":0,"restarts":0,"exit_code":3},` +
		`{"name":"clock.1","type":"clock","state":"stopped","pid":0,"port":0,"restarts":0,"exit_code":null,"signal":"SIGTERM"}]`
	if string(b) != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", b, want)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"op":"status"}`,
		`{"v":1,"op":"restart","names":["web","worker.1"]}`,
		`{"v":1,"op":"stop","names":[]}` + "\n",
		`{"v":1,"op":"hello","extra":{"x":[1,2]}}`,
		`{"v":2,"op":"status"}`,
		`{"v":1,"op":"restart","names":"web"}`,
		`{"v":1}{"v":1}`,
		`[`, ``, "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := decodeRequest(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bad control request") && !strings.Contains(err.Error(), "control") {
				t.Errorf("error %q does not say what failed", err)
			}
			return
		}
		if req.V != Version {
			t.Errorf("accepted version %d", req.V)
		}
		switch req.Op {
		case opHello, opStatus, opRestart, opStop:
		default:
			t.Errorf("accepted op %q", req.Op)
		}
	})
}
