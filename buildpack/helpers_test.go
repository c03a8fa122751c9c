package buildpack

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gangerdev/ganger/env"
)

// bpDir is the absolute path of testdata/NAME.
func bpDir(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// refs parses references (testdata buildpack names become their paths).
func refs(t testing.TB, names ...string) []Ref {
	t.Helper()
	var out []Ref
	for _, n := range names {
		s := n
		if strings.HasPrefix(n, "bp-") {
			s = bpDir(t, n)
		}
		r, err := ParseRef(s, "")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// writeFiles creates files (path -> content) under dir; a path ending in
// "/" is a directory, content "->X" a symlink to X.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(c, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testEnviron is what the tests pass as ganger's own environment: the real
// PATH (bash, git, go) and a variable that must not reach buildpacks.
func testEnviron() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "GANGER_TEST_LEAK=must-not-leak", "GIT_DIR=/nonexistent"}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newApp creates an app dir with files and returns it.
func newApp(t testing.TB, files map[string]string) string {
	t.Helper()
	app := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(app, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, app, files)
	return app
}

func buildOpts(t testing.TB, app string, out *syncBuffer, bps ...string) BuildOptions {
	t.Helper()
	var w io.Writer = io.Discard
	if out != nil {
		w = out
	}
	return BuildOptions{
		AppDir:        app,
		Buildpacks:    refs(t, bps...),
		Environ:       testEnviron(),
		Out:           w,
		SourceVersion: "",
		Fetch:         FetchOptions{CacheDir: filepath.Join(t.TempDir(), "bpcache")},
		Config:        []env.Var{{Key: "DATABASE_URL", Value: "postgres://u:secret@db/x", Source: ".env", Line: 1}},
	}
}

func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
}

// gitRun runs git in dir with a fixed identity and no user config.
func gitRun(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitInitCommit makes dir a git repository holding everything in it, in
// one commit with the message msg, and returns that commit's id.
func gitInitCommit(t testing.TB, dir, msg string) string {
	t.Helper()
	gitRun(t, dir, "init", "-q")
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "-q", "-m", msg)
	return gitRun(t, dir, "rev-parse", "HEAD")
}
