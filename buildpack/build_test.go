package buildpack

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gangerdev/ganger/env"
)

// TestBuild runs two buildpacks end to end and checks everything §1 of the
// issue promises about a successful build.
func TestBuild(t *testing.T) {
	requireTool(t, "git")
	app := newApp(t, map[string]string{
		"first.txt":       "x",
		"Procfile":        "web: echo app-web\nrelease: echo releasing\n",
		".slugignore":     "# comment\n*.log\n/docs/\nsecret-notes.md\n",
		"app.log":         "log",
		"docs/readme":     "d",
		"sub/app.log":     "log",
		"sub/keep.txt":    "keep",
		"secret-notes.md": "s",
		"link":            "->sub/keep.txt",
	})
	commit := gitInitCommit(t, app, "init")

	var out syncBuffer
	opts := buildOpts(t, app, &out, "bp-first", "bp-second")
	opts.Tarball = filepath.Join(t.TempDir(), "slug.tgz")
	slug, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	sd := filepath.Join(app, SlugDir)
	if slug.Dir != sd || slug.Procfile != filepath.Join(sd, "Procfile") {
		t.Errorf("slug Dir=%q Procfile=%q", slug.Dir, slug.Procfile)
	}

	// The app copy: .git, .ganger and the .slugignore matches are gone,
	// and were gone before the first buildpack ran.
	for _, p := range []string{"first.txt", "Procfile", "sub/keep.txt", ".slugignore", "link"} {
		if _, err := os.Lstat(filepath.Join(sd, p)); err != nil {
			t.Errorf("slug lacks %s: %v", p, err)
		}
	}
	for _, p := range []string{".git", ".ganger", "app.log", "sub/app.log", "docs", "secret-notes.md"} {
		if _, err := os.Lstat(filepath.Join(sd, p)); err == nil {
			t.Errorf("slug has %s", p)
		}
	}
	tree := readFile(t, filepath.Join(sd, ".first-tree"))
	for _, p := range []string{"app.log", "docs", "secret-notes.md", ".git\n", ".ganger"} {
		if strings.Contains(tree, p) {
			t.Errorf("bin/compile saw %q in the build dir:\n%s", p, tree)
		}
	}

	// Arguments, ENV_DIR and the minimal environment.
	args := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(sd, ".first-args"))), "\n")
	if len(args) != 3 || !strings.HasPrefix(args[0], filepath.Join(app, GangerDir, "tmp-build-")) ||
		args[1] != filepath.Join(app, CacheDirName) || !strings.HasPrefix(args[2], filepath.Join(app, GangerDir, "tmp-build-")) {
		t.Errorf("compile args = %q", args)
	}
	if got := readFile(t, filepath.Join(sd, ".first-envdir")); got != "600 DATABASE_URL=postgres://u:secret@db/x\n" {
		t.Errorf("ENV_DIR = %q", got)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(sd, ".first-envdir-mode"))); got != "700" {
		t.Errorf("ENV_DIR mode = %s", got)
	}
	envs := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(sd, ".first-env"))), "\n") {
		k, v, _ := strings.Cut(kv, "=")
		envs[k] = v
	}
	allowed := map[string]bool{"PATH": true, "HOME": true, "STACK": true, "LANG": true, "SOURCE_VERSION": true, "PWD": true, "SHLVL": true, "_": true, "OLDPWD": true, "GIT_CEILING_DIRECTORIES": true}
	for k := range envs {
		if !allowed[k] {
			t.Errorf("bin/compile got %s in its environment", k)
		}
	}
	if envs["STACK"] != DefaultStack || envs["SOURCE_VERSION"] != commit || envs["LANG"] != "C.UTF-8" ||
		envs["PATH"] != os.Getenv("PATH") || !strings.HasPrefix(envs["HOME"], filepath.Join(app, GangerDir, "tmp-build-")) {
		t.Errorf("compile env = %v (want SOURCE_VERSION %s)", envs, commit)
	}

	if got := readFile(t, filepath.Join(sd, ".first-git")); got != "none\n" {
		t.Errorf("git inside the build dir found a repository: %q", got)
	}

	// The export hand-off.
	if got := readFile(t, filepath.Join(sd, "handoff.txt")); got != "from first\n" {
		t.Errorf("handoff = %q", got)
	}
	if got := readFile(t, filepath.Join(sd, "tool.txt")); got != "first-tool\n" {
		t.Errorf("PATH from export: tool.txt = %q", got)
	}

	// Release: merged, the later buildpack winning.
	wantTypes := []ProcessType{{"web", "echo second-web"}, {"worker", "echo worker"}}
	if !reflect.DeepEqual(slug.Meta.Release.DefaultProcessTypes, wantTypes) {
		t.Errorf("default process types = %v", slug.Meta.Release.DefaultProcessTypes)
	}
	if want := map[string]string{"FIRST_VAR": "one", "SHARED": "from-second"}; !reflect.DeepEqual(slug.ConfigVars(), want) {
		t.Errorf("config vars = %v", slug.ConfigVars())
	}
	if got := slug.Defaults([]string{"web", "release"}); !reflect.DeepEqual(got, []ProcessType{{"worker", "echo worker"}}) {
		t.Errorf("Defaults(web, release) = %v", got)
	}
	if got := slug.Defaults(nil); !reflect.DeepEqual(got, wantTypes) {
		t.Errorf("Defaults(nil) = %v", got)
	}

	// Metadata.
	m := slug.Meta
	if m.Stack != DefaultStack || m.SourceVersion != commit || len(m.Buildpacks) != 2 ||
		m.Buildpacks[0].Name != "First" || m.Buildpacks[1].Name != "Second" ||
		m.Buildpacks[0].Resolved != bpDir(t, "bp-first") || m.Buildpacks[0].Kind != KindDir {
		t.Errorf("metadata = %+v", m)
	}
	var phases []string
	for _, p := range m.Phases {
		phases = append(phases, p.Name)
	}
	if got := strings.Join(phases, ","); got != "copy,fetch,fetch,detect,compile,export,release,detect,compile,release,tarball" {
		t.Errorf("phases = %s", got)
	}

	// Output and log.
	o := out.String()
	for _, want := range []string{"-----> First app detected", "-----> Second app detected", "-----> First: compiling",
		"-----> Second: HANDOFF=from first", "-----> Build succeeded in ", "compile " + bpDir(t, "bp-first"),
		"4 paths left out by .slugignore", "Default process types from the buildpacks: web, worker"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o, "secret") {
		t.Errorf("output shows a config value:\n%s", o)
	}
	if log := readFile(t, filepath.Join(app, BuildLogFile)); !strings.Contains(log, "-----> First: compiling") || !strings.Contains(log, "Build succeeded") {
		t.Errorf("build log:\n%s", log)
	}
	if left, _ := filepath.Glob(filepath.Join(app, GangerDir, "tmp-*")); len(left) > 0 {
		t.Errorf("workspace left behind: %v", left)
	}

	// The tarball honours .slugignore (compile.log was written by compile).
	names := tarNames(t, opts.Tarball)
	for _, want := range []string{"./", "./first.txt", "./.profile.d/10-first.sh", "./link", "./" + SlugMetaFile} {
		if !names[want] {
			t.Errorf("tarball lacks %s", want)
		}
	}
	if _, err := os.Stat(filepath.Join(sd, "compile.log")); err != nil {
		t.Errorf("slug dir lacks compile.log: %v", err)
	}
	if names["./compile.log"] {
		t.Errorf("tarball has compile.log, which .slugignore excludes")
	}

	// Processes run from the slug with .profile.d and .profile sourced.
	cmd := exec.Command(ProcessCommand(`echo "$ORDER"; first-tool`)[0], ProcessCommand(`echo "$ORDER"; first-tool`)[1:]...)
	cmd.Env = []string{"HOME=" + sd, "PATH=" + os.Getenv("PATH")}
	cmd.Dir = t.TempDir()
	got, err := cmd.CombinedOutput()
	if err != nil || string(got) != "first,second,profile,\nfirst-tool\n" {
		t.Errorf("process from slug: %q, %v", got, err)
	}

	// A second build reuses the cache dir and replaces the slug.
	out = syncBuffer{}
	opts.Tarball = ""
	slug2, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatalf("second Build: %v\n%s", err, out.String())
	}
	if got := readFile(t, filepath.Join(sd, "cache-count")); got != "2\n" {
		t.Errorf("cache-count after the second build = %q, want 2", got)
	}
	if !slug2.Meta.StartedAt.After(slug.Meta.StartedAt) {
		t.Errorf("second slug metadata not newer")
	}
}

func tarNames(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	names := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s owned by %d:%d", h.Name, h.Uid, h.Gid)
		}
	}
	return names
}

// TestBuildFailureKeepsSlug: a failed build names the buildpack, the
// phase and the log, and leaves the previous slug as it was.
func TestBuildFailureKeepsSlug(t *testing.T) {
	tests := []struct {
		name      string
		bps       []string
		config    []env.Var
		phase     string
		exit      int
		msg       string // in err.Error()
		logWants  []string
		notInOut  []string
		wantInOut []string
	}{
		{name: "compile", bps: []string{"bp-compile-fail"}, phase: PhaseCompile, exit: 3,
			logWants: []string{"-----> about to fail", "something went wrong"}},
		{name: "detect", bps: []string{"bp-detect-fail"}, phase: PhaseDetect, exit: 1,
			msg: "it does not recognise this app", wantInOut: []string{"no widget.json"}},
		{name: "second of two", bps: []string{"bp-norelease", "bp-compile-fail"}, phase: PhaseCompile, exit: 3},
		{name: "invalid config key", bps: []string{"bp-norelease"}, phase: PhaseEnvDir, exit: -1,
			config: []env.Var{{Key: "BAD-KEY", Value: "hunter2", Source: ".env", Line: 3}},
			msg:    `config var "BAD-KEY" (.env:3)`, notInOut: []string{"hunter2"}},
		{name: "path key", bps: []string{"bp-norelease"}, phase: PhaseEnvDir, exit: -1,
			config: []env.Var{{Key: "../x", Value: "v", Source: ".env", Line: 1}}, msg: `"../x"`},
		{name: "missing buildpack", bps: []string{"./no-such-buildpack"}, phase: PhaseFetch, exit: -1, msg: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t, map[string]string{"first.txt": "x"})
			var out syncBuffer
			if _, err := Build(context.Background(), buildOpts(t, app, &out, "bp-norelease")); err != nil {
				t.Fatalf("first build: %v\n%s", err, out.String())
			}
			before := readFile(t, filepath.Join(app, SlugDir, SlugMetaFile))

			out = syncBuffer{}
			opts := buildOpts(t, app, &out, tc.bps...)
			if tc.config != nil {
				opts.Config = tc.config
			}
			_, err := Build(context.Background(), opts)
			var be *BuildError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a *BuildError", err)
			}
			wantBP := ""
			if tc.phase == PhaseCompile || tc.phase == PhaseDetect || tc.phase == PhaseFetch {
				wantBP = opts.Buildpacks[len(opts.Buildpacks)-1].Raw
			}
			if be.Phase != tc.phase || be.ExitCode != tc.exit || be.Buildpack != wantBP {
				t.Errorf("BuildError = %+v, want phase %s exit %d buildpack %q", be, tc.phase, tc.exit, wantBP)
			}
			logPath := filepath.Join(app, BuildLogFile)
			if be.Err == nil {
				want := fmt.Sprintf("buildpack %q failed in %s (exit %d)", wantBP, tc.phase, tc.exit)
				if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "; full log: "+logPath) {
					t.Errorf("error = %q, want %q ... full log: %s", err, want, logPath)
				}
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %q, want it to contain %q", err, tc.msg)
			}
			for _, s := range tc.notInOut {
				if strings.Contains(err.Error()+out.String(), s) {
					t.Errorf("%q shown: %v\n%s", s, err, out.String())
				}
			}
			for _, s := range tc.wantInOut {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
			log := readFile(t, logPath)
			for _, s := range tc.logWants {
				if !strings.Contains(log, s) || !strings.Contains(out.String(), s) {
					t.Errorf("log or output lacks %q\nlog:\n%s", s, log)
				}
			}
			if !strings.Contains(out.String(), "-----> Build failed in ") {
				t.Errorf("no durations after a failure:\n%s", out.String())
			}
			if !strings.Contains(log, " !     "+err.Error()) {
				t.Errorf("error not in the log:\n%s", log)
			}
			if after := readFile(t, filepath.Join(app, SlugDir, SlugMetaFile)); after != before {
				t.Errorf("the failed build changed the slug")
			}
			if _, err := os.Stat(filepath.Join(app, SlugDir, "norelease-ran")); err != nil {
				t.Errorf("previous slug damaged: %v", err)
			}
			if left, _ := filepath.Glob(filepath.Join(app, GangerDir, "tmp-*")); len(left) > 0 {
				t.Errorf("workspace (with ENV_DIR) left behind: %v", left)
			}
		})
	}
}

func TestBuildDetection(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		bps     []string
		want    string // detected name; "" means failure
		wantErr string
	}{
		{name: "second candidate", files: map[string]string{"first.txt": ""}, bps: []string{"bp-detect-fail", "bp-first", "bp-second"}, want: "First"},
		{name: "first candidate", files: map[string]string{"first.txt": ""}, bps: []string{"bp-norelease", "bp-first"}, want: "Null"},
		{name: "none", files: map[string]string{"x": ""}, bps: []string{"bp-detect-fail", "bp-first"}, wantErr: "no buildpack recognised this app (tried "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t, tc.files)
			var out syncBuffer
			opts := buildOpts(t, app, &out, tc.bps...)
			opts.Detect = true
			slug, err := Build(context.Background(), opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v\n%s", err, out.String())
			}
			if len(slug.Meta.Buildpacks) != 1 || slug.Meta.Buildpacks[0].Name != tc.want {
				t.Errorf("buildpacks = %+v, want only %s", slug.Meta.Buildpacks, tc.want)
			}
			if strings.Contains(out.String(), "no widget.json") {
				t.Errorf("a candidate's detect stderr was shown:\n%s", out.String())
			}
		})
	}
}

func TestBuildNoReleaseAndStack(t *testing.T) {
	tests := []struct {
		name      string
		stack     string
		config    []env.Var
		wantStack string
	}{
		{name: "default", wantStack: DefaultStack},
		{name: "config var", config: []env.Var{{Key: "STACK", Value: "heroku-22"}}, wantStack: "heroku-22"},
		{name: "option wins", stack: "heroku-20", config: []env.Var{{Key: "STACK", Value: "heroku-22"}}, wantStack: "heroku-20"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t, map[string]string{"x": ""})
			var out syncBuffer
			opts := buildOpts(t, app, &out, "bp-norelease")
			opts.Stack, opts.Config = tc.stack, tc.config
			slug, err := Build(context.Background(), opts)
			if err != nil {
				t.Fatalf("Build: %v\n%s", err, out.String())
			}
			if slug.Meta.Stack != tc.wantStack {
				t.Errorf("stack = %q, want %q", slug.Meta.Stack, tc.wantStack)
			}
			if slug.Procfile != "" || slug.Defaults(nil) != nil || len(slug.ConfigVars()) != 0 {
				t.Errorf("slug without Procfile or release: %+v", slug)
			}
		})
	}
}

// TestBuildCancel: cancelling the context stops bin/compile's whole
// process group and fails the build promptly.
func TestBuildCancel(t *testing.T) {
	app := newApp(t, map[string]string{"x": ""})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &triggerWriter{marker: "slow-compile-started pgid=", fire: cancel}
	opts := buildOpts(t, app, nil, "bp-slow")
	opts.Out = w
	start := time.Now()
	_, err := Build(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Build took %v after cancel", d)
	}
	pgid := w.pgid()
	if pgid <= 1 {
		t.Fatalf("no pgid in output: %q", w.String())
	}
	// The group (bash and its sleep) must be gone; sleep is reaped by
	// init, so wait for that with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(-pgid, syscall.SIGKILL)
			t.Fatalf("process group %d still alive after cancel", pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := LoadSlugAt(app, SlugDir); err == nil || !strings.Contains(err.Error(), "ganger build") {
		t.Errorf("LoadSlug after a cancelled first build: %v", err)
	}
}

// triggerWriter calls fire once when marker appears in what is written.
type triggerWriter struct {
	syncBuffer
	marker string
	fire   func()
	fired  bool
}

func (w *triggerWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if !w.fired && strings.Contains(w.syncBuffer.String(), w.marker) && strings.Contains(w.syncBuffer.String()[strings.Index(w.syncBuffer.String(), w.marker):], "\n") {
		w.fired = true
		w.fire()
	}
	return n, err
}

func (w *triggerWriter) pgid() int {
	s := w.String()
	i := strings.Index(s, w.marker)
	if i < 0 {
		return 0
	}
	var n int
	fmt.Sscanf(s[i+len(w.marker):], "%d", &n)
	return n
}

func TestBuildLocked(t *testing.T) {
	app := newApp(t, map[string]string{"x": ""})
	if err := os.MkdirAll(filepath.Join(app, GangerDir), 0o700); err != nil {
		t.Fatal(err)
	}
	f, ok, err := lockFile(filepath.Join(app, GangerDir, "build.lock"))
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer f.Close()
	_, err = Build(context.Background(), buildOpts(t, app, nil, "bp-norelease"))
	if err == nil || !strings.Contains(err.Error(), "another ganger build is running") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadSlugMissing(t *testing.T) {
	_, err := LoadSlugAt(t.TempDir(), SlugDir)
	if err == nil || !strings.Contains(err.Error(), `run "ganger build" first`) {
		t.Fatalf("err = %v", err)
	}
}

func TestWriteEnvDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "env")
	err := writeEnvDir(dir, []env.Var{
		{Key: "A", Value: "1"}, {Key: "B", Value: "multi\nline\n"}, {Key: "A", Value: "2"}, {Key: "_x9", Value: ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", e.Name(), fi.Mode())
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "A,B,_x9" {
		t.Errorf("files = %v", names)
	}
	if readFile(t, filepath.Join(dir, "A")) != "2" || readFile(t, filepath.Join(dir, "B")) != "multi\nline\n" {
		t.Errorf("values not verbatim / later not winning")
	}
	for _, bad := range []string{"", "1A", "A-B", "a/b", "..", "A B", "A\x00"} {
		err := writeEnvDir(filepath.Join(t.TempDir(), "env"), []env.Var{{Key: bad, Value: "secret-value"}})
		if err == nil || strings.Contains(err.Error(), "secret-value") {
			t.Errorf("key %q: err = %v", bad, err)
		}
	}
}
