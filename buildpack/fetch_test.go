package buildpack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// tarServer serves tarballs by path over TLS and counts requests.
type tarServer struct {
	*httptest.Server
	hits  atomic.Int32
	files map[string][]byte
	ca    string // a PEM file of the server's certificate
}

// environ is testEnviron with curl trusting the server's certificate.
func (s *tarServer) environ() []string {
	return append(testEnviron(), "CURL_CA_BUNDLE="+s.ca)
}

// newTarServer serves files by path. Below /chunked/ the same files go
// out without a Content-Length, and /to-http/PATH redirects to plain http.
func newTarServer(t *testing.T, files map[string][]byte) *tarServer {
	t.Helper()
	requireTool(t, "curl")
	s := &tarServer{files: files}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if p, ok := strings.CutPrefix(r.URL.Path, "/to-http/"); ok {
			http.Redirect(w, r, "http://"+r.Host+"/"+p, http.StatusFound)
			return
		}
		p, chunked := strings.CutPrefix(r.URL.Path, "/chunked")
		data, ok := s.files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if chunked {
			w.(http.Flusher).Flush() // headers out before the body is known
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	s.ca = filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(s.ca, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFetchTarballHTTP(t *testing.T) {
	good := makeTar(t, true,
		dir("bp-main/"), dir("bp-main/bin/"),
		file("bp-main/bin/compile", "#!/bin/sh\necho tarball-compile\n", 0o755),
		file("bp-main/bin/detect", "#!/bin/sh\necho Tarball\n", 0o755),
	)
	evil := makeTar(t, true, file("bin/compile", "x", 0o755), symlink("bin/x", "../../../../etc"))
	srv := newTarServer(t, map[string][]byte{"/bp.tgz": good, "/evil.tgz": evil, "/plain.tar": makeTar(t, false, file("bin/compile", "p", 0o755))})
	cache := t.TempDir()
	opts := FetchOptions{CacheDir: cache, Environ: srv.environ()}
	ref, err := ParseRef(srv.URL+"/bp.tgz", "")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(good)
	wantResolved := "sha256:" + hex.EncodeToString(sum[:])

	dir, resolved, err := Fetch(context.Background(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if resolved != wantResolved {
		t.Errorf("resolved = %s, want %s", resolved, wantResolved)
	}
	if got := readFile(t, filepath.Join(dir, "bin", "compile")); !strings.Contains(got, "tarball-compile") {
		t.Errorf("bin/compile = %q (the single top directory should be the buildpack)", got)
	}
	if srv.hits.Load() != 1 {
		t.Errorf("hits = %d", srv.hits.Load())
	}

	// Cached: no request at all, even with the server gone.
	srv.Close()
	dir2, resolved2, err := Fetch(context.Background(), ref, opts)
	if err != nil || dir2 != dir || resolved2 != resolved {
		t.Fatalf("cached fetch: %s %s %v", dir2, resolved2, err)
	}
	// --refresh goes to the network again (and fails now, keeping the cache).
	ropts := opts
	ropts.Refresh = true
	if _, _, err := Fetch(context.Background(), ref, ropts); err == nil {
		t.Fatal("refresh with the server down succeeded")
	}
	if _, _, err := Fetch(context.Background(), ref, opts); err != nil {
		t.Fatalf("cache lost after a failed refresh: %v", err)
	}

	srv2 := newTarServer(t, srv.files)
	opts.Environ = srv2.environ()
	opts.Refresh = true
	for _, tc := range []struct {
		path, err string
		max       int64
	}{
		{path: "/bp.tgz"},
		{path: "/plain.tar"},
		{path: "/evil.tgz", err: "leads outside"},
		{path: "/missing.tgz", err: "404"},
		{path: "/bp.tgz", max: 100, err: "larger than 100 bytes: refused"},
		{path: "/chunked/bp.tgz"},
		{path: "/chunked/bp.tgz", max: 100, err: "larger than 100 bytes: refused"},
		{path: "/to-http/bp.tgz", err: "redirects are followed to https only"},
	} {
		r, err := ParseRef(srv2.URL+tc.path, "")
		if err != nil {
			t.Fatal(err)
		}
		o := opts
		o.MaxBytes = tc.max
		_, _, err = Fetch(context.Background(), r, o)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: err = %v, want %q", tc.path, err, tc.err)
		}
	}
	if srv2.hits.Load() != 8 {
		t.Errorf("refresh hits = %d, want 8", srv2.hits.Load())
	}
	// Nothing half-fetched is left in the cache.
	ents, _ := os.ReadDir(cache)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".fetch-") || strings.Contains(e.Name(), ".old-") {
			t.Errorf("left in cache: %s", e.Name())
		}
	}
}

// bareRepo makes a bare repository with: commit 1 (tag v1, bin/compile
// echoing v1), commit 2 on the default branch (v2), and branch "feature"
// (v3). It returns the repo path and the commits.
func bareRepo(t *testing.T) (repo string, commits [3]string) {
	t.Helper()
	requireTool(t, "git")
	work := filepath.Join(t.TempDir(), "work")
	write := func(v string) {
		writeFiles(t, work, map[string]string{
			"bin/detect":  "#!/bin/sh\necho Git" + v + "\n",
			"bin/compile": "#!/bin/sh\necho compile-" + v + "\ntouch \"$1/git-" + v + "\"\n",
		})
		if err := os.Chmod(filepath.Join(work, "bin", "compile"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(t, work, "init", "-q", "-b", "main")
	write("v1")
	gitRun(t, work, "add", "-A")
	gitRun(t, work, "commit", "-q", "-m", "v1")
	gitRun(t, work, "tag", "v1")
	commits[0] = gitRun(t, work, "rev-parse", "HEAD")
	write("v2")
	gitRun(t, work, "commit", "-q", "-am", "v2")
	commits[1] = gitRun(t, work, "rev-parse", "HEAD")
	gitRun(t, work, "checkout", "-q", "-b", "feature")
	write("v3")
	gitRun(t, work, "commit", "-q", "-am", "v3")
	commits[2] = gitRun(t, work, "rev-parse", "HEAD")
	gitRun(t, work, "checkout", "-q", "main")
	repo = filepath.Join(t.TempDir(), "bp.git")
	gitRun(t, filepath.Dir(repo), "clone", "-q", "--bare", work, repo)
	return repo, commits
}

func TestFetchGit(t *testing.T) {
	repo, commits := bareRepo(t)
	// The same repository without the .git suffix: a bare repo found as a
	// directory is cloned too.
	plain := filepath.Join(filepath.Dir(repo), "plainrepo")
	if err := os.Symlink(repo, plain); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	opts := FetchOptions{CacheDir: cache, Environ: testEnviron()}
	tests := []struct {
		ref      string
		resolved string
		version  string
		err      string
	}{
		{ref: "file://" + repo + "#v1", resolved: commits[0], version: "v1"},
		{ref: repo + "#" + commits[1], resolved: commits[1], version: "v2"},
		{ref: repo + "#" + commits[0][:12], resolved: commits[0], version: "v1"},
		{ref: repo, resolved: commits[1], version: "v2"},
		{ref: repo + "#main", resolved: commits[1], version: "v2"},
		{ref: repo + "#feature", resolved: commits[2], version: "v3"},
		{ref: plain, resolved: commits[1], version: "v2"},
		{ref: repo + "#nope", err: `no branch, tag or commit "nope"`},
		{ref: filepath.Join(t.TempDir(), "missing.git"), err: "git clone"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := ParseRef(tc.ref, "")
			if err != nil {
				t.Fatal(err)
			}
			dir, resolved, err := Fetch(context.Background(), r, opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resolved != tc.resolved {
				t.Errorf("resolved = %s, want %s", resolved, tc.resolved)
			}
			if got := readFile(t, filepath.Join(dir, "bin", "compile")); !strings.Contains(got, "compile-"+tc.version) {
				t.Errorf("checked out %q, want %s", got, tc.version)
			}
			if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
				t.Errorf(".git kept in the fetched buildpack")
			}
		})
	}

	// Reused from the cache with the repository gone.
	if err := os.RemoveAll(repo); err != nil {
		t.Fatal(err)
	}
	r, _ := ParseRef(repo+"#v1", "")
	if _, resolved, err := Fetch(context.Background(), r, opts); err != nil || resolved != commits[0] {
		t.Fatalf("cached: %s %v", resolved, err)
	}
	r.Raw += " (refresh)"
	if _, _, err := Fetch(context.Background(), r, FetchOptions{CacheDir: cache, Refresh: true, Environ: testEnviron()}); err == nil {
		t.Fatal("refresh of a removed repository succeeded")
	}
}

// TestFetchGitRefusesOptions: references that git would read as options
// never reach git, even when built by hand rather than by ParseRef.
func TestFetchGitRefusesOptions(t *testing.T) {
	requireTool(t, "git")
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	for _, r := range []Ref{
		{Raw: "x", Kind: KindGit, URL: "--upload-pack=touch " + marker},
		{Raw: "y", Kind: KindGit, Path: "-uxx"},
		{Raw: "z", Kind: KindGit, URL: "https://127.0.0.1:1/x.git", Rev: "--output=" + marker},
	} {
		_, _, err := Fetch(context.Background(), r, FetchOptions{CacheDir: dir, Environ: testEnviron()})
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%+v: err = %v", r, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("an option reached git")
	}
	for _, s := range []string{"--upload-pack=touch " + marker, "https://example.com/x.git#--output=" + marker} {
		if _, err := ParseRef(s, ""); err == nil {
			t.Errorf("ParseRef(%q) accepted", s)
		}
	}
}

func TestGitEnv(t *testing.T) {
	got := strings.Join(gitEnv([]string{"GIT_DIR=/x", "GIT_ASKPASS=/bin/x", "HOME=/h", "SSH_ASKPASS=y"}), "\n")
	for _, want := range []string{"HOME=/h", "GIT_TERMINAL_PROMPT=0", "GIT_ALLOW_PROTOCOL=https:ssh:file", "PATH=" + defaultPath} {
		if !strings.Contains(got, want) {
			t.Errorf("gitEnv lacks %s:\n%s", want, got)
		}
	}
	for _, bad := range []string{"GIT_DIR", "GIT_ASKPASS", "SSH_ASKPASS"} {
		if strings.Contains(got, bad+"=") {
			t.Errorf("gitEnv keeps %s", bad)
		}
	}
}

// TestBuildFromGitAndTarball builds with a buildpack cloned from a local
// bare repository at a tag and one downloaded from a local HTTPS server,
// and records what each resolved to.
func TestBuildFromGitAndTarball(t *testing.T) {
	repo, commits := bareRepo(t)
	tgz := makeTar(t, true,
		file("bin/compile", "#!/bin/sh\ntouch \"$1/from-tarball\"\n", 0o755),
		file("bin/detect", "#!/bin/sh\necho Tarball\n", 0o755),
		file("bin/release", "#!/bin/sh\nprintf 'default_process_types:\\n  web: ./serve\\n'\n", 0o755),
	)
	srv := newTarServer(t, map[string][]byte{"/ns/tarred.tgz": tgz})
	app := newApp(t, map[string]string{"x": ""})
	var out syncBuffer
	opts := buildOpts(t, app, &out)
	// The tarball is named by registry shorthand mapped to the test server.
	tarRef, err := ParseRef("ns/tarred", srv.URL+"/{namespace}/{name}.tgz")
	if err != nil {
		t.Fatal(err)
	}
	gitRef, err := ParseRef("file://"+repo+"#v1", "")
	if err != nil {
		t.Fatal(err)
	}
	opts.Buildpacks = []Ref{gitRef, tarRef}
	opts.Fetch.Environ = srv.environ()
	slug, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	for _, f := range []string{"git-v1", "from-tarball"} {
		if _, err := os.Stat(filepath.Join(slug.Dir, f)); err != nil {
			t.Errorf("slug lacks %s", f)
		}
	}
	bps := slug.Meta.Buildpacks
	if len(bps) != 2 || bps[0].Resolved != commits[0] || bps[0].Kind != KindGit || bps[0].Name != "Gitv1" ||
		!strings.HasPrefix(bps[1].Resolved, "sha256:") || bps[1].Ref != "ns/tarred" || bps[1].Kind != KindTarball {
		t.Errorf("buildpacks = %+v", bps)
	}
	if d := slug.Defaults([]string{"web"}); len(d) != 0 {
		t.Errorf("Defaults = %v", d)
	}
	// A rebuild works offline from the buildpack cache.
	srv.Close()
	if err := os.RemoveAll(repo); err != nil {
		t.Fatal(err)
	}
	out = syncBuffer{}
	if _, err := Build(context.Background(), opts); err != nil {
		t.Fatalf("offline rebuild: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "using cached") {
		t.Errorf("rebuild output:\n%s", out.String())
	}
}

func TestDownloadWithoutCurl(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var got strings.Builder
	_, err := download(context.Background(), "https://example.invalid/bp.tgz", nil, &got, 100)
	if err == nil || !strings.Contains(err.Error(), "needs curl, which is not installed") {
		t.Fatalf("err = %v, want curl named as missing", err)
	}
}
