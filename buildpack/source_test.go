package buildpack

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/env"
)

// slugFiles lists the files and symlinks of the slug, slash-separated and
// sorted, without what the build adds (the metadata, norelease-ran).
func slugFiles(t *testing.T, app string) []string {
	t.Helper()
	sd := filepath.Join(app, SlugDir)
	var out []string
	err := filepath.WalkDir(sd, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(sd, p)
		rel = filepath.ToSlash(rel)
		if rel != SlugMetaFile && rel != "norelease-ran" {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestBuildSourceGit: in a git repository the build dir holds what git
// would send (tracked files, with their uncommitted edits, and untracked
// files git does not ignore), minus .slugignore; ignored secrets,
// node_modules and untracked env files stay out, of the slug and of the
// tarball, and a tracked file deleted from the working tree does not break
// the copy.
func TestBuildSourceGit(t *testing.T) {
	requireTool(t, "git")
	repo := newApp(t, map[string]string{
		".gitignore":             "secret.txt\nnode_modules/\n*.pem\n",
		"top.txt":                "outside the app",
		"web/Procfile":           "web: echo hi\n",
		"web/edited.txt":         "committed",
		"web/deleted.txt":        "gone from the working tree",
		"web/.env.example":       "KEY=example\n",
		"web/.gitignore":         "local/\n!keep.pem\n",
		"web/keep.pem":           "kept by a deeper negation",
		"web/lib/code.rb":        "puts 1",
		"web/link":               "->lib/code.rb",
		"web/.slugignore":        "*.md\n",
		"web/tracked-secret.txt": "", // added with -f below: tracked wins over ignored
	})
	gitRun(t, repo, "init", "-q")
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "add", "-f", "web/tracked-secret.txt")
	gitRun(t, repo, "commit", "-q", "-m", "init")
	app := filepath.Join(repo, "web")
	writeFiles(t, app, map[string]string{
		"edited.txt":            "uncommitted edit",
		"new.txt":               "untracked, not ignored",
		"notes.md":              "left out by .slugignore",
		"secret.txt":            "hunter2",
		"sub/secret.txt":        "hunter2",
		"node_modules/x/i.js":   "x",
		"local/cache":           "c",
		"server.pem":            "private key",
		".env":                  "DATABASE_URL=postgres://u:secret@db/x\n",
		".env.local":            "X=1\n",
		"config/dev.env":        "Y=2\n",
		"nested/.gitignore":     "*.tmp\n",
		"nested/a.tmp":          "t",
		"nested/b.txt":          "b",
		"empty-untracked-dir/":  "",
		"node_modules/.keep-me": "",
	})
	if err := os.Remove(filepath.Join(app, "deleted.txt")); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	opts := buildOpts(t, app, &out, "bp-norelease")
	opts.Config = append(opts.Config, env.Var{Key: "Y", Value: "2", Source: filepath.Join(app, "config", "dev.env"), Line: 1})
	opts.Tarball = filepath.Join(t.TempDir(), "slug.tgz")
	if _, err := Build(context.Background(), opts); err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	want := []string{".env.example", ".gitignore", ".slugignore", "Procfile", "edited.txt", "keep.pem", "lib/code.rb", "link", "nested/.gitignore", "nested/b.txt", "new.txt", "tracked-secret.txt"}
	if got := slugFiles(t, app); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("slug files:\n got %v\nwant %v\n%s", got, want, out.String())
	}
	if got := readFile(t, filepath.Join(app, SlugDir, "edited.txt")); got != "uncommitted edit" {
		t.Errorf("edited.txt = %q, want the working tree's", got)
	}
	names := tarNames(t, opts.Tarball)
	for n := range names {
		for _, bad := range []string{"secret.txt", ".env\x00", ".env.local", "node_modules", "server.pem", "dev.env", "top.txt"} {
			if strings.Contains(n+"\x00", "/"+bad) && n != "./tracked-secret.txt" {
				t.Errorf("tarball has %s", n)
			}
		}
	}
	o := out.String()
	for _, w := range []string{"(the files git lists: tracked, and untracked but not ignored)", "1 paths left out by .slugignore",
		"left out .env: an env file reaches the build only when git tracks it", "left out .env.local:", "left out config/dev.env:"} {
		if !strings.Contains(o, w) {
			t.Errorf("output lacks %q:\n%s", w, o)
		}
	}
	if strings.Contains(o, "secret@") {
		t.Errorf("output shows a value:\n%s", o)
	}

	// A tracked env file is part of the app: it reaches the build.
	gitRun(t, repo, "add", "web/.env")
	if _, err := Build(context.Background(), opts); err != nil {
		t.Fatalf("Build: %v", err)
	}
	if _, err := os.Stat(filepath.Join(app, SlugDir, ".env")); err != nil {
		t.Errorf("tracked .env not in the slug: %v", err)
	}
}

// TestBuildSourceNoGit: outside a git repository the .gitignore files are
// applied as git would (deeper files and later lines win, "!" re-includes,
// nothing inside an ignored directory comes back), and env files stay out.
func TestBuildSourceNoGit(t *testing.T) {
	app := newApp(t, map[string]string{
		".gitignore":            "# secrets\nsecret.txt\nnode_modules/\n*.log\n!important.log\n/build\ndocs/**/*.tmp\n",
		"Procfile":              "web: x\n",
		"secret.txt":            "hunter2",
		"a/secret.txt":          "hunter2",
		"node_modules/m/i.js":   "x",
		"x.log":                 "l",
		"important.log":         "kept",
		"build/out":             "top build dir ignored",
		"src/build/out":         "anchored pattern: kept",
		"docs/a/b/c.tmp":        "t",
		"docs/a/keep.txt":       "k",
		"sub/.gitignore":        "!x.log\nlocal.txt\n",
		"sub/x.log":             "re-included below",
		"sub/local.txt":         "l",
		"ign/":                  "",
		".env":                  "SECRET=1\n",
		"config/.env.test":      "SECRET=1\n",
		"node_modules/.gitkeep": "",
	})
	var out syncBuffer
	if _, err := Build(context.Background(), buildOpts(t, app, &out, "bp-norelease")); err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	want := []string{".gitignore", "Procfile", "docs/a/keep.txt", "important.log", "src/build/out", "sub/.gitignore", "sub/x.log"}
	if got := slugFiles(t, app); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("slug files:\n got %v\nwant %v\n%s", got, want, out.String())
	}
	o := out.String()
	for _, w := range []string{"(not a git working tree: the files its .gitignore files do not ignore)", "left out .env:", "left out config/.env.test:"} {
		if !strings.Contains(o, w) {
			t.Errorf("output lacks %q:\n%s", w, o)
		}
	}
}

// TestBuildCommit: BuildOptions.Commit builds exactly that commit's tree
// of the app's directory: no uncommitted edit, no untracked file, what the
// working tree deleted is back; modes and symlinks as committed; the
// commit's .slugignore; SOURCE_VERSION is the commit.
func TestBuildCommit(t *testing.T) {
	requireTool(t, "git")
	repo := newApp(t, map[string]string{
		"other/x":          "not the app",
		"web/Procfile":     "web: x\n",
		"web/a.txt":        "v1",
		"web/bin/run":      "#!/bin/sh\n",
		"web/link":         "->a.txt",
		"web/.slugignore":  "*.md\n",
		"web/README.md":    "r",
		"web/.ganger/junk": "committed by mistake",
		"web/deep/er/f":    "f",
	})
	if err := os.Chmod(filepath.Join(repo, "web/bin/run"), 0o755); err != nil {
		t.Fatal(err)
	}
	first := gitInitCommit(t, repo, "one")
	writeFiles(t, repo, map[string]string{"web/a.txt": "v2", "web/b.txt": "new"})
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-q", "-m", "two")
	app := filepath.Join(repo, "web")
	writeFiles(t, app, map[string]string{"a.txt": "uncommitted", "untracked.txt": "u", ".env": "S=1\n"})
	if err := os.Remove(filepath.Join(app, "deep/er/f")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		commit, a string
		files     []string
	}{
		{commit: "HEAD", a: "v2", files: []string{".slugignore", "Procfile", "a.txt", "b.txt", "bin/run", "deep/er/f", "link"}},
		{commit: first, a: "v1", files: []string{".slugignore", "Procfile", "a.txt", "bin/run", "deep/er/f", "link"}},
	} {
		var out syncBuffer
		opts := buildOpts(t, app, &out, "bp-norelease")
		opts.Commit = tc.commit
		slug, err := Build(context.Background(), opts)
		if err != nil {
			t.Fatalf("Build %s: %v\n%s", tc.commit, err, out.String())
		}
		if got := slugFiles(t, app); strings.Join(got, " ") != strings.Join(tc.files, " ") {
			t.Errorf("%s: slug files %v, want %v", tc.commit, got, tc.files)
		}
		sd := filepath.Join(app, SlugDir)
		if got := readFile(t, filepath.Join(sd, "a.txt")); got != tc.a {
			t.Errorf("%s: a.txt = %q, want %q", tc.commit, got, tc.a)
		}
		if fi, err := os.Stat(filepath.Join(sd, "bin/run")); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: bin/run mode: %v %v", tc.commit, fi, err)
		}
		if l, err := os.Readlink(filepath.Join(sd, "link")); err != nil || l != "a.txt" {
			t.Errorf("%s: link -> %q, %v", tc.commit, l, err)
		}
		id := gitRun(t, repo, "rev-parse", tc.commit)
		if slug.Meta.SourceVersion != id {
			t.Errorf("%s: SOURCE_VERSION = %q, want %s", tc.commit, slug.Meta.SourceVersion, id)
		}
		if !strings.Contains(out.String(), "(commit "+id+"), 1 paths left out by .slugignore") {
			t.Errorf("%s: output:\n%s", tc.commit, out.String())
		}
	}

	for _, tc := range []struct{ commit, err string }{
		{"no-such-branch", `commit "no-such-branch" is not in the git repository of`},
		{"--output=/tmp/x", "not a commit name"},
	} {
		opts := buildOpts(t, app, nil, "bp-norelease")
		opts.Commit = tc.commit
		if _, err := Build(context.Background(), opts); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Commit %q: err = %v, want %q", tc.commit, err, tc.err)
		}
	}
	// The app's directory did not exist in a commit.
	gitRun(t, repo, "checkout", "-q", "--orphan", "empty")
	gitRun(t, repo, "rm", "-rqf", "--cached", ".")
	writeFiles(t, repo, map[string]string{"only.txt": "x"})
	gitRun(t, repo, "add", "only.txt")
	gitRun(t, repo, "commit", "-q", "-m", "no app")
	opts := buildOpts(t, app, nil, "bp-norelease")
	opts.Commit = "empty"
	if _, err := Build(context.Background(), opts); err == nil || !strings.Contains(err.Error(), `("web/" in the repository) is not in commit empty`) {
		t.Errorf("app missing from the commit: err = %v", err)
	}
}

// TestGitignore: gitignoreTree reads a directory's .gitignore from disk
// and reports a bad pattern as a warning naming FILE:LINE. What the
// patterns mean is internal/gitignore's table, checked against git.
func TestGitignore(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		matches []string // "path" for a file, "path/" for a directory
		misses  []string
		warn    string
	}{
		{name: "name anywhere", file: "*.log\n", matches: []string{"a.log", "x/y/b.log", "d.log/"}, misses: []string{"a.logx"}},
		{name: "negation", file: "*.txt\n!keep.txt\n", matches: []string{"a.txt"}, misses: []string{"keep.txt", "d/keep.txt"}},
		{name: "bad pattern skipped", file: "[z\nok\n", matches: []string{"ok"}, warn: ".gitignore:1: bad pattern"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if err := os.WriteFile(filepath.Join(root, ".gitignore"), []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			g := newGitignoreTree(root)
			check := func(p string, want bool) {
				isDir := strings.HasSuffix(p, "/")
				if got := g.ignored(strings.TrimSuffix(p, "/"), isDir); got != want {
					t.Errorf("%q: ignored = %v, want %v", p, got, want)
				}
			}
			for _, p := range tc.matches {
				check(p, true)
			}
			for _, p := range tc.misses {
				check(p, false)
			}
			if got := strings.Join(g.warnings, "\n"); (tc.warn == "") != (got == "") || !strings.Contains(got, tc.warn) {
				t.Errorf("warnings = %q, want %q", got, tc.warn)
			}
		})
	}
}

// TestBuildSourceSubmodule: a submodule's files are listed by its own git
// (its ignored files stay out); a commit's tree does not hold them, which
// the build says.
func TestBuildSourceSubmodule(t *testing.T) {
	requireTool(t, "git")
	root := t.TempDir()
	sub := filepath.Join(root, "sub")
	writeFiles(t, sub, map[string]string{"lib.rb": "lib", ".gitignore": "*.key\n"})
	gitInitCommit(t, sub, "sub")
	app := filepath.Join(root, "app")
	writeFiles(t, app, map[string]string{"Procfile": "web: x\n"})
	gitRun(t, app, "init", "-q")
	gitRun(t, app, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "vendor/sub")
	gitRun(t, app, "add", "Procfile")
	gitRun(t, app, "commit", "-q", "-m", "with a submodule")
	writeFiles(t, app, map[string]string{"vendor/sub/secret.key": "k", "vendor/sub/new.rb": "n"})

	var out syncBuffer
	if _, err := Build(context.Background(), buildOpts(t, app, &out, "bp-norelease")); err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	want := []string{".gitmodules", "Procfile", "vendor/sub/.gitignore", "vendor/sub/lib.rb", "vendor/sub/new.rb"}
	if got := slugFiles(t, app); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("slug files %v, want %v", got, want)
	}

	out = syncBuffer{}
	opts := buildOpts(t, app, &out, "bp-norelease")
	opts.Commit = "HEAD"
	if _, err := Build(context.Background(), opts); err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	if got := slugFiles(t, app); strings.Join(got, " ") != ".gitmodules Procfile" {
		t.Errorf("commit slug files %v", got)
	}
	if !strings.Contains(out.String(), "left out the submodule vendor/sub: a commit's tree does not hold it") {
		t.Errorf("output:\n%s", out.String())
	}
}
