package buildpack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gangerdev/ganger/env"
)

// Paths relative to the app dir, and names inside the slug.
const (
	GangerDir    = ".ganger"
	SlugDir      = ".ganger/slug"       // the last successful build
	CheckSlugDir = ".ganger/check/slug" // the last build of check --boot
	BuildLogFile = ".ganger/build.log"  // the whole log of the last build
	TestLogFile  = ".ganger/test.log"   // the whole log of the last test run
	ArtifactsDir = ".ganger/test-artifacts"
	CacheDirName = ".ganger/cache" // CACHE_DIR of builds, kept between them
	TestCacheDir = ".ganger/test-cache"
	// BuildpackCacheDir holds fetched buildpacks when
	// FetchOptions.CacheDir is "".
	BuildpackCacheDir = ".ganger/buildpacks"
	BuildLockFile     = ".ganger/build.lock" // held while a build runs
	TestLockFile      = ".ganger/test.lock"  // held while a test run runs
	SlugMetaFile      = ".ganger-slug.json"  // metadata, at the root of the slug
	DefaultStack      = "heroku-24"
)

// Phases named in BuildError and Metadata.
const (
	PhaseCopy        = "copy"
	PhaseFetch       = "fetch"
	PhaseDetect      = "detect"
	PhaseCompile     = "compile"
	PhaseTestCompile = "test-compile"
	PhaseExport      = "export"
	PhaseRelease     = "release"
	PhaseTarball     = "tarball"
	PhaseTestSetup   = "test-setup"
	PhaseTest        = "test"
	PhaseEnvDir      = "env-dir" // writing ENV_DIR
	PhaseSwap        = "swap"    // putting the slug in place
)

// BuildOptions configure Build and Test.
type BuildOptions struct {
	AppDir string
	// Buildpacks run in order. With Detect they are candidates instead:
	// the first whose bin/detect passes is the only one used.
	Buildpacks []Ref
	Detect     bool
	// Config are the config vars from the env files (a later duplicate
	// wins). Each becomes a file in ENV_DIR; none is exported into the
	// buildpacks' environment (except BUILDPACK_XTRACE and STACK).
	Config []env.Var
	// Environ is ganger's own environment (os.Environ()); only PATH, LANG
	// and the proxy variables are taken from it for the buildpacks, and it
	// is what git runs with.
	Environ []string
	// CacheDir is CACHE_DIR; "" means .ganger/cache (.ganger/test-cache
	// for Test).
	CacheDir string
	// Fetch configures fetching; an empty Fetch.CacheDir means
	// .ganger/buildpacks. Fetch.Log is ignored (progress goes to Out).
	Fetch FetchOptions
	// Stack is STACK; "" means the STACK config var, else DefaultStack.
	Stack string
	// SourceVersion is SOURCE_VERSION; "" means "git rev-parse HEAD" in
	// AppDir when that works, else unset.
	SourceVersion string
	// Out receives the build output as it happens (also kept in the log).
	Out io.Writer
	// Tarball, when set, is a path where the slug is also written as a
	// gzipped tarball, mode 0600 (entries "./..."; .slugignore and .git
	// left out).
	Tarball string
	// Commit, when set, builds exactly this commit's tree (a commit id,
	// branch or tag of the repository holding AppDir; the app's directory
	// in it) instead of the working tree, like "git archive": no
	// uncommitted edit, no untracked file, the commit's .slugignore.
	// SOURCE_VERSION is then the commit unless SourceVersion is set. It is
	// what a pre-push hook should build: the commit being pushed.
	Commit string
	// SlugDir is where the slug goes, relative to AppDir; "" means SlugDir.
	// check --boot builds into CheckSlugDir, leaving the slug a running
	// start --slug uses alone.
	SlugDir string
}

// BuildError is a failed build step: which buildpack, which phase, and the
// exit code (-1 when the step did not exit normally).
type BuildError struct {
	Buildpack string // the reference as written; "" for steps of no buildpack
	Phase     string
	ExitCode  int
	Log       string // path of the full log
	Err       error  // the cause when the step did not just exit non-zero
}

func (e *BuildError) Error() string {
	var b strings.Builder
	if e.Buildpack != "" {
		fmt.Fprintf(&b, "buildpack %q failed in %s", e.Buildpack, e.Phase)
	} else {
		fmt.Fprintf(&b, "build failed in %s", e.Phase)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	} else {
		fmt.Fprintf(&b, " (exit %d)", e.ExitCode)
		if e.Phase == PhaseDetect {
			b.WriteString(": it does not recognise this app")
		}
	}
	if e.Log != "" {
		fmt.Fprintf(&b, "; full log: %s", e.Log)
	}
	return b.String()
}

func (e *BuildError) Unwrap() error { return e.Err }

// Phase is one timed step of a build.
type Phase struct {
	Name      string  `json:"name"`
	Buildpack string  `json:"buildpack,omitempty"`
	Seconds   float64 `json:"seconds"`
	Failed    bool    `json:"failed,omitempty"` // the step the build failed in
}

// BuildpackInfo records a buildpack a slug was built with.
type BuildpackInfo struct {
	Ref      string `json:"ref"`
	Kind     Kind   `json:"kind"`
	Resolved string `json:"resolved"` // commit, sha256:HEX of the tarball, or directory
	Name     string `json:"name"`     // what bin/detect printed
}

// Metadata describes a slug; it is SlugMetaFile at the slug's root.
type Metadata struct {
	Version       int             `json:"version"`
	Stack         string          `json:"stack"`
	SourceVersion string          `json:"source_version,omitempty"`
	Buildpacks    []BuildpackInfo `json:"buildpacks"`
	// Release merges every buildpack's bin/release, a later one winning.
	Release   Release   `json:"release"`
	Phases    []Phase   `json:"phases"`
	StartedAt time.Time `json:"started_at"`
	Seconds   float64   `json:"seconds"`
}

// Build builds opts.AppDir with the buildpacks and, only when every step
// succeeded, makes the result the app's slug (.ganger/slug, swapped in
// atomically; a failed build leaves the previous slug as it was). The
// whole output is also written to .ganger/build.log. A failing step is a
// *BuildError naming the buildpack and the phase.
func Build(ctx context.Context, opts BuildOptions) (_ *Slug, err error) {
	s, err := newSession(opts, false)
	if err != nil {
		return nil, err
	}
	defer s.close()
	defer s.reportFailure("Build failed", &err)
	if err := s.prepare(ctx); err != nil {
		return nil, err
	}
	for i := range s.packs {
		if err := s.runPack(ctx, i); err != nil {
			return nil, err
		}
	}
	s.printRelease()
	meta := s.metadata()
	if err := writeJSON(filepath.Join(s.buildDir, SlugMetaFile), meta); err != nil {
		return nil, s.fail("", PhaseRelease, -1, err)
	}
	if opts.Tarball != "" {
		t0 := time.Now()
		fmt.Fprintf(s.out, "-----> Writing slug tarball %s\n", opts.Tarball)
		err := writeSlugTarball(ctx, s.buildDir, opts.Tarball)
		s.phase(PhaseTarball, "", t0)
		if err != nil {
			return nil, s.fail("", PhaseTarball, -1, err)
		}
		// Again, with the tarball's duration.
		meta = s.metadata()
		if err := writeJSON(filepath.Join(s.buildDir, SlugMetaFile), meta); err != nil {
			return nil, s.fail("", PhaseTarball, -1, err)
		}
	}
	slugDir := opts.SlugDir
	if slugDir == "" {
		slugDir = SlugDir
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(s.appDir, slugDir)), 0o700); err != nil {
		return nil, s.fail("", PhaseSwap, -1, err)
	}
	kept, err := swapDir(s.buildDir, filepath.Join(s.appDir, slugDir))
	if err != nil {
		return nil, s.fail("", PhaseSwap, -1, err)
	}
	s.printSummary("Build succeeded", meta)
	if kept != "" {
		rel, _ := filepath.Rel(s.appDir, kept)
		fmt.Fprint(s.out, keptNote(filepath.Join(opts.AppDir, rel)))
	}
	fmt.Fprintf(s.out, "-----> Slug ready: %s\n", filepath.Join(opts.AppDir, slugDir))
	return LoadSlugAt(s.appDir, slugDir)
}

// session is one build or test run: its workspace, log and state. It is
// used by one goroutine.
type session struct {
	opts      BuildOptions
	test      bool
	appDir    string
	logPath   string // as shown to the user
	lock      *os.File
	logFile   *os.File
	out       *teeWriter // Out and the log
	ws        string     // workspace under .ganger, removed at the end
	buildDir  string     // BUILD_DIR
	envDir    string     // ENV_DIR
	cacheDir  string     // CACHE_DIR
	stack     string
	sourceVer string
	baseEnv   []string // the minimal environment
	env       []string // baseEnv plus what export files set so far
	packs     []*pack
	release   Release
	phases    []Phase
	started   time.Time
}

// pack is one buildpack of this build, copied to a writable directory.
type pack struct {
	ref      Ref
	dir      string
	resolved string
	name     string
}

func newSession(opts BuildOptions, test bool) (*session, error) {
	if opts.AppDir == "" {
		return nil, errors.New("no app directory given")
	}
	appDir, err := filepath.Abs(opts.AppDir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(appDir); err != nil {
		return nil, fmt.Errorf("app directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("app directory %s is not a directory", appDir)
	}
	if len(opts.Buildpacks) == 0 {
		return nil, errors.New("no buildpack to build with; hint: use Select to choose them")
	}
	gdir, err := prepareGangerDir(appDir)
	if err != nil {
		return nil, err
	}
	s := &session{opts: opts, test: test, appDir: appDir, started: time.Now()}
	kind, logName, lockName := "build", BuildLogFile, BuildLockFile
	if test {
		kind, logName, lockName = "test", TestLogFile, TestLockFile
	}
	lock, ok, err := lockFile(filepath.Join(appDir, lockName))
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", filepath.Join(appDir, lockName), err)
	}
	if !ok {
		return nil, fmt.Errorf("another ganger %s is running for %s; wait for it to finish", kind, appDir)
	}
	s.lock = lock
	// Leftovers of a build that was killed.
	if old, _ := filepath.Glob(filepath.Join(gdir, "tmp-"+kind+"-*")); len(old) > 0 {
		for _, o := range old {
			os.RemoveAll(o)
		}
	}
	s.logPath = filepath.Join(opts.AppDir, logName)
	s.logFile, err = os.OpenFile(filepath.Join(appDir, logName), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		s.close()
		return nil, err
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	s.out = &teeWriter{out: out, log: s.logFile}
	s.ws, err = os.MkdirTemp(gdir, "tmp-"+kind+"-")
	if err != nil {
		s.close()
		return nil, err
	}
	s.buildDir = filepath.Join(s.ws, "app")
	s.envDir = filepath.Join(s.ws, "env")
	s.cacheDir = opts.CacheDir
	if s.cacheDir == "" {
		s.cacheDir = filepath.Join(appDir, CacheDirName)
		if test {
			s.cacheDir = filepath.Join(appDir, TestCacheDir)
		}
	}
	return s, nil
}

// close removes the workspace (ENV_DIR holds secrets) and releases the log
// and the lock.
func (s *session) close() {
	if s.ws != "" {
		os.RemoveAll(s.ws)
	}
	if s.logFile != nil {
		s.logFile.Close()
	}
	if s.lock != nil {
		s.lock.Close()
	}
}

// reportFailure prints the durations of the phases that ran and logs the
// error (the caller shows it).
func (s *session) reportFailure(title string, errp *error) {
	if *errp == nil {
		return
	}
	s.printSummary(title, s.metadata())
	fmt.Fprintf(s.logFile, " !     %v\n", *errp)
}

// fail returns the BuildError of a failed step and marks its row of the
// phase table failed (adding the row when the step recorded none).
func (s *session) fail(bp, phase string, code int, err error) error {
	if n := len(s.phases); n > 0 && s.phases[n-1].Name == phase && s.phases[n-1].Buildpack == bp {
		s.phases[n-1].Failed = true
	} else {
		s.phases = append(s.phases, Phase{Name: phase, Buildpack: bp, Failed: true})
	}
	return &BuildError{Buildpack: bp, Phase: phase, ExitCode: code, Log: s.logPath, Err: err}
}

func (s *session) phase(name, bp string, start time.Time) {
	s.phases = append(s.phases, Phase{Name: name, Buildpack: bp, Seconds: time.Since(start).Seconds()})
}

// prepare copies the app, writes ENV_DIR, sets up the environment and
// fetches the buildpacks (running detection when asked).
func (s *session) prepare(ctx context.Context) error {
	opts := s.opts
	mode := "Building"
	if s.test {
		mode = "Building for tests"
	}
	s.stack = opts.Stack
	if s.stack == "" {
		s.stack = DefaultStack
		for _, v := range opts.Config {
			if v.Key == "STACK" && v.Value != "" {
				s.stack = v.Value
			}
		}
	}
	s.sourceVer = opts.SourceVersion
	if s.sourceVer == "" && opts.Commit == "" { // copyCommit sets the commit's
		s.sourceVer = sourceVersion(ctx, s.appDir, opts.Environ)
	}
	if opts.Commit != "" {
		fmt.Fprintf(s.out, "-----> %s %s at commit %s (stack %s)\n", mode, opts.AppDir, opts.Commit, s.stack)
	} else {
		fmt.Fprintf(s.out, "-----> %s %s (stack %s)\n", mode, opts.AppDir, s.stack)
	}

	if s.test && opts.CacheDir == "" {
		s.seedTestCache(ctx)
	}
	if err := os.MkdirAll(s.cacheDir, 0o700); err != nil {
		return fmt.Errorf("creating the cache dir %s: %w", s.cacheDir, err)
	}

	t0 := time.Now()
	err := s.copyApp(ctx)
	s.phase(PhaseCopy, "", t0)
	if err != nil {
		return s.fail("", PhaseCopy, -1, err)
	}

	if err := writeEnvDir(s.envDir, opts.Config); err != nil {
		return s.fail("", PhaseEnvDir, -1, err)
	}
	s.baseEnv = s.makeBaseEnv()
	s.env = s.baseEnv
	if err := os.Mkdir(filepath.Join(s.ws, "home"), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(s.ws, "buildpacks"), 0o700); err != nil {
		return err
	}

	fo := opts.Fetch
	fo.Log = s.out
	if fo.CacheDir == "" {
		fo.CacheDir = filepath.Join(s.appDir, BuildpackCacheDir)
	}
	if fo.Environ == nil {
		fo.Environ = opts.Environ
	}
	if !opts.Detect {
		// Every buildpack is fetched before the first runs (a missing one
		// fails the build before a long compile); each one's header comes
		// right before its own output, in runPack.
		fo.Log = &headerWriter{w: s.out, header: "-----> Fetching the buildpacks\n"}
	}
	for i, ref := range opts.Buildpacks {
		if opts.Detect {
			fmt.Fprintf(s.out, "-----> Buildpack %s\n", ref.Raw)
		}
		p, err := s.fetch(ctx, i, ref, fo)
		if err != nil {
			return err
		}
		if !opts.Detect {
			s.packs = append(s.packs, p)
			continue
		}
		ok, err := s.detect(ctx, p, false)
		if err != nil {
			return err
		}
		if ok {
			s.packs = []*pack{p}
			return nil
		}
	}
	if opts.Detect {
		var tried []string
		for _, r := range opts.Buildpacks {
			tried = append(tried, r.Raw)
		}
		return s.fail("", PhaseDetect, -1, fmt.Errorf("no buildpack recognised this app (tried %s); hint: pass -b REF or add a %s file", strings.Join(tried, ", "), BuildpacksFile))
	}
	return nil
}

// fetch fetches the buildpack and copies it to a writable per-build
// directory (for its export file).
func (s *session) fetch(ctx context.Context, i int, ref Ref, fo FetchOptions) (*pack, error) {
	t0 := time.Now()
	p, err := s.fetchCopy(ctx, i, ref, fo)
	s.phase(PhaseFetch, ref.Raw, t0)
	if err != nil {
		return nil, s.fail(ref.Raw, PhaseFetch, -1, err)
	}
	return p, nil
}

func (s *session) fetchCopy(ctx context.Context, i int, ref Ref, fo FetchOptions) (*pack, error) {
	src, resolved, err := Fetch(ctx, ref, fo)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.ws, "buildpacks", fmt.Sprintf("%02d", i))
	if _, err := copyTree(ctx, src, dir, func(rel string, _ bool) bool { return rel == ".git" }); err != nil {
		return nil, fmt.Errorf("copying the buildpack: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "compile")); err != nil {
		return nil, fmt.Errorf("%s has no bin/compile: not a buildpack", src)
	}
	for _, n := range []string{"detect", "compile", "release", "test-compile", "test"} {
		p := filepath.Join(dir, "bin", n)
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
			if err := os.Chmod(p, fi.Mode().Perm()|0o111); err != nil {
				return nil, fmt.Errorf("making %s executable: %w", p, err)
			}
		}
	}
	return &pack{ref: ref, dir: dir, resolved: resolved}, nil
}

// detect runs bin/detect. A pinned buildpack that does not pass fails the
// build; a candidate (pinned false) just returns false, its stderr going
// to the log only.
func (s *session) detect(ctx context.Context, p *pack, pinned bool) (bool, error) {
	t0 := time.Now()
	ok, code, err := s.runDetect(ctx, p, pinned)
	s.phase(PhaseDetect, p.ref.Raw, t0)
	switch {
	case err != nil:
		return false, s.fail(p.ref.Raw, PhaseDetect, -1, err)
	case !ok && pinned:
		return false, s.fail(p.ref.Raw, PhaseDetect, code, nil)
	}
	return ok, nil
}

// runDetect is detect without the phase table: whether the buildpack
// passed, and bin/detect's exit code.
func (s *session) runDetect(ctx context.Context, p *pack, pinned bool) (bool, int, error) {
	script := filepath.Join(p.dir, "bin", "detect")
	if _, err := os.Stat(script); err != nil {
		if !pinned {
			return false, -1, nil
		}
		p.name = filepath.Base(p.ref.Raw)
		fmt.Fprintf(s.out, "-----> %s app detected (no bin/detect)\n", p.name)
		return true, 0, nil
	}
	var stdout bytes.Buffer
	var stderr io.Writer = s.out
	if !pinned {
		stderr = s.logFile
	}
	code, err := s.exec(ctx, []string{script, s.buildDir}, s.env, &limitedBuffer{buf: &stdout, max: 64 << 10}, stderr)
	if err != nil {
		return false, -1, err
	}
	if code != 0 {
		if !pinned {
			fmt.Fprintf(s.logFile, "       %s: bin/detect exited %d\n", p.ref.Raw, code)
		}
		return false, code, nil
	}
	name, _, _ := strings.Cut(strings.TrimSpace(stdout.String()), "\n")
	name = strings.TrimSpace(name)
	if name == "" {
		name = filepath.Base(p.ref.Raw)
	}
	p.name = name
	fmt.Fprintf(s.out, "-----> %s app detected\n", name)
	return true, 0, nil
}

// runPack runs detect (for pinned buildpacks), compile (test-compile in
// test mode when the buildpack has it), sources the export file and runs
// release.
func (s *session) runPack(ctx context.Context, i int) error {
	p := s.packs[i]
	if !s.opts.Detect {
		fmt.Fprintf(s.out, "-----> Buildpack %s\n", p.ref.Raw)
		if _, err := s.detect(ctx, p, true); err != nil {
			return err
		}
	}
	phase, script := PhaseCompile, filepath.Join(p.dir, "bin", "compile")
	if s.test {
		if _, err := os.Stat(filepath.Join(p.dir, "bin", "test-compile")); err == nil {
			phase, script = PhaseTestCompile, filepath.Join(p.dir, "bin", "test-compile")
		}
	}
	t0 := time.Now()
	code, err := s.exec(ctx, []string{script, s.buildDir, s.cacheDir, s.envDir}, s.env, s.out, s.out)
	s.phase(phase, p.ref.Raw, t0)
	if err != nil {
		return s.fail(p.ref.Raw, phase, -1, err)
	}
	if code != 0 {
		return s.fail(p.ref.Raw, phase, code, nil)
	}

	if exp := filepath.Join(p.dir, "export"); fileExists(exp) {
		t0 := time.Now()
		envv, err := s.sourceExport(ctx, exp)
		s.phase(PhaseExport, p.ref.Raw, t0)
		if err != nil {
			return s.fail(p.ref.Raw, PhaseExport, -1, err)
		}
		s.env = envv
	}

	rel := filepath.Join(p.dir, "bin", "release")
	if !fileExists(rel) {
		return nil
	}
	t0 = time.Now()
	var stdout bytes.Buffer
	lb := &limitedBuffer{buf: &stdout, max: maxReleaseBytes}
	code, err = s.exec(ctx, []string{rel, s.buildDir}, s.env, lb, s.out)
	s.phase(PhaseRelease, p.ref.Raw, t0)
	if err != nil {
		return s.fail(p.ref.Raw, PhaseRelease, -1, err)
	}
	if code != 0 {
		return s.fail(p.ref.Raw, PhaseRelease, code, nil)
	}
	if lb.over {
		return s.fail(p.ref.Raw, PhaseRelease, -1, fmt.Errorf("bin/release printed more than %d bytes", maxReleaseBytes))
	}
	fmt.Fprintf(s.logFile, "bin/release of %s:\n%s\n", p.ref.Raw, stdout.String())
	r, err := parseRelease(stdout.Bytes())
	if err != nil {
		return s.fail(p.ref.Raw, PhaseRelease, -1, err)
	}
	s.release = s.release.merge(r)
	return nil
}

func (s *session) printRelease() {
	if len(s.release.DefaultProcessTypes) > 0 {
		names := make([]string, 0, len(s.release.DefaultProcessTypes))
		for _, p := range s.release.DefaultProcessTypes {
			names = append(names, p.Name)
		}
		fmt.Fprintf(s.out, "-----> Default process types from the buildpacks: %s\n", strings.Join(names, ", "))
	}
	if len(s.release.ConfigVars) > 0 {
		fmt.Fprintf(s.out, "-----> Config vars from the buildpacks: %s\n", strings.Join(sortedKeys(s.release.ConfigVars), ", "))
	}
}

func (s *session) metadata() Metadata {
	m := Metadata{
		Version:       1,
		Stack:         s.stack,
		SourceVersion: s.sourceVer,
		Release:       s.release,
		Phases:        s.phases,
		StartedAt:     s.started.UTC(),
		Seconds:       time.Since(s.started).Seconds(),
	}
	for _, p := range s.packs {
		m.Buildpacks = append(m.Buildpacks, BuildpackInfo{Ref: p.ref.Raw, Kind: p.ref.Kind, Resolved: p.resolved, Name: p.name})
	}
	return m
}

// printSummary prints the duration of every phase, aligned on the
// longest name, the failed step marked.
func (s *session) printSummary(title string, m Metadata) {
	fmt.Fprintf(s.out, "-----> %s in %s\n", title, fmtSeconds(m.Seconds))
	labels := make([]string, len(m.Phases))
	width := 0
	for i, p := range m.Phases {
		labels[i] = p.Name
		if p.Buildpack != "" {
			labels[i] += " " + p.Buildpack
		}
		width = max(width, utf8.RuneCountInString(labels[i])) // fmt pads in runes
	}
	for i, p := range m.Phases {
		failed := ""
		if p.Failed {
			failed = "  failed"
		}
		fmt.Fprintf(s.out, "       %-*s %8s%s\n", width, labels[i], fmtSeconds(p.Seconds), failed)
	}
}

func fmtSeconds(sec float64) string { return fmt.Sprintf("%.2fs", sec) }

// exec runs argv in BUILD_DIR with envv, in its own process group, and
// returns its exit code; err is set only when it could not be run or was
// cancelled.
func (s *session) exec(ctx context.Context, argv, envv []string, stdout, stderr io.Writer) (int, error) {
	shown := argv
	if len(argv) > 2 && argv[1] == "-c" {
		shown = append([]string{argv[0], "-c", "..."}, argv[3:]...)
	}
	fmt.Fprintf(s.logFile, "$ %s\n", strings.Join(shown, " "))
	cmd := commandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.buildDir
	cmd.Env = envv
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() < 0 {
			return -1, fmt.Errorf("%s: %w", filepath.Base(argv[0]), err)
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("%s: %w", filepath.Base(argv[0]), err)
	}
	return 0, nil
}

// exportScript sources an export file with every assignment exported and
// prints the resulting environment NUL-separated. Its own output goes to
// stderr.
const exportScript = `set -a
. "$1" >&2
set +a
for __ganger_v in $(compgen -e); do
	case $__ganger_v in _|SHLVL|PWD|OLDPWD) continue ;; esac
	printf '%s=%s\0' "$__ganger_v" "${!__ganger_v}"
done`

// sourceExport returns the environment after sourcing a buildpack's export
// file on top of the current one.
func (s *session) sourceExport(ctx context.Context, file string) ([]string, error) {
	var stdout bytes.Buffer
	lb := &limitedBuffer{buf: &stdout, max: 8 << 20}
	code, err := s.exec(ctx, []string{"bash", "-c", exportScript, "ganger-export", file}, s.env, lb, s.out)
	if err != nil {
		return nil, err
	}
	if code != 0 || lb.over {
		return nil, fmt.Errorf("sourcing %s failed (exit %d)", file, code)
	}
	var out []string
	for _, kv := range strings.Split(stdout.String(), "\x00") {
		if k, _, ok := strings.Cut(kv, "="); ok && k != "" {
			out = append(out, kv)
		}
	}
	sort.Strings(out)
	return out, nil
}

// makeBaseEnv is the minimal, explicit environment of every buildpack
// script: PATH, a throwaway HOME, STACK, SOURCE_VERSION, LANG, the proxy
// variables when set, BUILDPACK_XTRACE when configured, CI=true in tests,
// and GIT_CEILING_DIRECTORIES.
func (s *session) makeBaseEnv() []string {
	lookup := func(k string) string {
		v := ""
		for _, kv := range s.opts.Environ {
			if key, val, ok := strings.Cut(kv, "="); ok && key == k {
				v = val
			}
		}
		return v
	}
	m := map[string]string{
		"PATH":  lookup("PATH"),
		"HOME":  filepath.Join(s.ws, "home"),
		"STACK": s.stack,
		"LANG":  lookup("LANG"),
	}
	if m["PATH"] == "" {
		m["PATH"] = defaultPath
	}
	if m["LANG"] == "" {
		m["LANG"] = "C.UTF-8"
	}
	if s.sourceVer != "" {
		m["SOURCE_VERSION"] = s.sourceVer
	}
	for _, k := range []string{"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"} {
		if v := lookup(k); v != "" {
			m[k] = v
		}
	}
	for _, v := range s.opts.Config {
		if v.Key == "BUILDPACK_XTRACE" {
			m[v.Key] = v.Value
		}
	}
	if s.test {
		m["CI"] = "true"
	}
	// The build dir is inside the app's tree: keep git from finding the
	// app's repository above it (Heroku's build dir has none).
	m["GIT_CEILING_DIRECTORIES"] = s.ws
	return envList(m)
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// writeEnvDir creates dir (0700) with one 0600 file per variable, named by
// the key and holding the value verbatim. A key that is not
// [A-Za-z_][A-Za-z0-9_]* is refused by name (never by value).
func writeEnvDir(dir string, vars []env.Var) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	last := map[string]string{}
	var errs []error
	for _, v := range vars {
		if !validKey(v.Key) {
			where := v.Source
			if v.Line > 0 {
				where = fmt.Sprintf("%s:%d", v.Source, v.Line)
			}
			if where != "" {
				where = " (" + where + ")"
			}
			errs = append(errs, fmt.Errorf("config var %q%s cannot be a file in ENV_DIR: names must match [A-Za-z_][A-Za-z0-9_]*", v.Key, where))
			continue
		}
		last[v.Key] = v.Value
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, k := range sortedKeys(last) {
		f, err := os.OpenFile(filepath.Join(dir, k), os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return fmt.Errorf("ENV_DIR: %w", err)
		}
		_, err = f.WriteString(last[k])
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("ENV_DIR %s: %w", k, err)
		}
	}
	return nil
}

// sourceVersion is the commit checked out in dir, or "".
func sourceVersion(ctx context.Context, dir string, environ []string) string {
	v, err := git(ctx, environ, io.Discard, "-C", dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	if err != nil {
		return ""
	}
	return v
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// teeWriter writes to the log and to out. A failing out (a closed pipe) is
// dropped rather than failing the build; log errors are ignored too.
type teeWriter struct {
	mu  sync.Mutex
	out io.Writer
	log io.Writer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.out != nil {
		if _, err := t.out.Write(p); err != nil {
			t.out = nil
		}
	}
	t.log.Write(p)
	return len(p), nil
}

// limitedBuffer keeps the first max bytes written and notes overflow.
type limitedBuffer struct {
	buf  *bytes.Buffer
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room < len(p) {
		l.over = true
		if room > 0 {
			l.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return l.buf.Write(p)
}

// headerWriter writes header before the first bytes written to it, if
// any: a section title for output that may not come.
type headerWriter struct {
	mu      sync.Mutex
	w       io.Writer
	header  string
	written bool
}

func (h *headerWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.written && len(p) > 0 {
		h.written = true
		if _, err := io.WriteString(h.w, h.header); err != nil {
			return 0, err
		}
	}
	return h.w.Write(p)
}
