package buildpack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGangerDirRefused: a .ganger, or a directory or file ganger writes
// under it, that is a symlink (a repository can commit one) or another
// user's is refused with an error naming it and a hint; nothing is
// written through it.
func TestGangerDirRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, app, elsewhere string) string // returns the path named in the error
		err   string
	}{
		{name: ".ganger symlink", err: "is a symlink", setup: func(t *testing.T, app, elsewhere string) string {
			return symlinkAt(t, elsewhere, filepath.Join(app, GangerDir))
		}},
		{name: "dangling .ganger symlink", err: "is a symlink", setup: func(t *testing.T, app, elsewhere string) string {
			return symlinkAt(t, filepath.Join(elsewhere, "missing"), filepath.Join(app, GangerDir))
		}},
		{name: "cache symlink", err: "is a symlink", setup: func(t *testing.T, app, elsewhere string) string {
			mkdir(t, filepath.Join(app, GangerDir))
			return symlinkAt(t, elsewhere, filepath.Join(app, CacheDirName))
		}},
		{name: "slug symlink", err: "is a symlink", setup: func(t *testing.T, app, elsewhere string) string {
			mkdir(t, filepath.Join(app, GangerDir))
			return symlinkAt(t, elsewhere, filepath.Join(app, SlugDir))
		}},
		{name: "buildpacks symlink", err: "is a symlink", setup: func(t *testing.T, app, elsewhere string) string {
			mkdir(t, filepath.Join(app, GangerDir))
			return symlinkAt(t, elsewhere, filepath.Join(app, BuildpackCacheDir))
		}},
		{name: "build.log symlink", err: "is a symlink", setup: func(t *testing.T, app, elsewhere string) string {
			mkdir(t, filepath.Join(app, GangerDir))
			return symlinkAt(t, filepath.Join(elsewhere, "log"), filepath.Join(app, BuildLogFile))
		}},
		{name: "build.lock symlink", err: "is a symlink", setup: func(t *testing.T, app, elsewhere string) string {
			mkdir(t, filepath.Join(app, GangerDir))
			return symlinkAt(t, filepath.Join(elsewhere, "lock"), filepath.Join(app, BuildLockFile))
		}},
		{name: "cache is a file", err: "is not a directory", setup: func(t *testing.T, app, elsewhere string) string {
			writeFiles(t, app, map[string]string{CacheDirName: "x"})
			return filepath.Join(app, CacheDirName)
		}},
		{name: ".ganger of another user", err: "belongs to uid 4242", setup: func(t *testing.T, app, elsewhere string) string {
			p := filepath.Join(app, GangerDir)
			mkdir(t, p)
			chownOrSkip(t, p)
			return p
		}},
		{name: "slug of another user", err: "belongs to uid 4242", setup: func(t *testing.T, app, elsewhere string) string {
			p := filepath.Join(app, SlugDir)
			mkdir(t, p)
			chownOrSkip(t, p)
			return p
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t, map[string]string{"x": ""})
			elsewhere := t.TempDir()
			named := tc.setup(t, app, elsewhere)
			for _, run := range []func(BuildOptions) error{
				func(o BuildOptions) error { _, err := Build(context.Background(), o); return err },
				func(o BuildOptions) error { _, err := Test(context.Background(), o); return err },
			} {
				err := run(buildOpts(t, app, nil, "bp-norelease"))
				if err == nil || !strings.Contains(err.Error(), "refusing to use "+named+": ") ||
					!strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "hint: remove it") {
					t.Errorf("err = %v, want it to refuse %s (%s) with a hint", err, named, tc.err)
				}
			}
			if ents, _ := os.ReadDir(elsewhere); len(ents) > 0 {
				t.Errorf("written through the symlink: %v", ents)
			}
		})
	}
}

// TestGangerDirGitignore: ganger creates .ganger 0700 with a .gitignore of
// "*", so nothing of a build shows in git status; a .ganger that exists
// keeps its own.
func TestGangerDirGitignore(t *testing.T) {
	requireTool(t, "git")
	app := newApp(t, map[string]string{"Procfile": "web: x\n"})
	gitInitCommit(t, app, "init")
	var out syncBuffer
	if _, err := Build(context.Background(), buildOpts(t, app, &out, "bp-norelease")); err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	if got := readFile(t, filepath.Join(app, GangerDir, ".gitignore")); !strings.Contains(got, "\n*\n") {
		t.Errorf(".ganger/.gitignore = %q", got)
	}
	if fi, err := os.Stat(filepath.Join(app, GangerDir)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf(".ganger: %v %v", fi, err)
	}
	if st := gitRun(t, app, "status", "--porcelain", "--untracked-files=all"); st != "" {
		t.Errorf("git status after a build:\n%s", st)
	}

	mine := newApp(t, map[string]string{".ganger/.gitignore": "slug/\n"})
	if _, err := Build(context.Background(), buildOpts(t, mine, nil, "bp-norelease")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(mine, GangerDir, ".gitignore")); got != "slug/\n" {
		t.Errorf("an existing .ganger/.gitignore was replaced: %q", got)
	}
}

func symlinkAt(t *testing.T, target, p string) string {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
}

// chownOrSkip gives p to uid 4242; only root can.
func chownOrSkip(t *testing.T, p string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	if err := os.Lchown(p, 4242, 4242); err != nil {
		t.Fatal(err)
	}
}
