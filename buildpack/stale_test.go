package buildpack

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRemoveStale: the workspaces that killed builds and test runs left
// (ENV_DIR holds the app's config) are removed, except one whose kind of
// run holds its lock; a removal left unfinished is finished; nothing is
// followed through a symlink.
func TestRemoveStale(t *testing.T) {
	app := t.TempDir()
	gdir := filepath.Join(app, GangerDir)
	mkws := func(name string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(gdir, name, "env"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(gdir, name, "env", "SECRET"), []byte("hunter2"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	left := func() []string {
		t.Helper()
		ents, err := os.ReadDir(gdir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}

	if err := RemoveStale(app); err != nil { // no .ganger at all
		t.Fatalf("RemoveStale without .ganger: %v", err)
	}
	mkws("tmp-build-1")
	mkws("tmp-test-2")
	mkws("tmp-test-seed-3")
	mkws("tmp-gone-build-4") // an earlier removal, cut short
	if err := os.WriteFile(filepath.Join(gdir, "build.log"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A build runs: its lock is held, its workspace is its own.
	lock, ok, err := lockFile(filepath.Join(app, BuildLockFile))
	if err != nil || !ok {
		t.Fatalf("lockFile: %v, %v", ok, err)
	}
	if err := RemoveStale(app); err != nil {
		t.Fatal(err)
	}
	if got, want := left(), []string{"build.lock", "build.log", "test.lock", "tmp-build-1"}; !slices.Equal(got, want) {
		t.Errorf("while a build runs, .ganger holds %q, want %q", got, want)
	}
	lock.Close() // the build ends (or is killed)
	if err := RemoveStale(app); err != nil {
		t.Fatal(err)
	}
	if got, want := left(), []string{"build.lock", "build.log", "test.lock"}; !slices.Equal(got, want) {
		t.Errorf("after the build, .ganger holds %q, want %q", got, want)
	}

	// A symlinked workspace is not followed, nor a symlinked .ganger.
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(gdir, "tmp-build-5")); err != nil {
		t.Fatal(err)
	}
	RemoveStale(app)
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Errorf("a symlinked tmp-build-* was followed: %v", err)
	}
	other := t.TempDir()
	if err := os.Symlink(gdir, filepath.Join(other, GangerDir)); err != nil {
		t.Fatal(err)
	}
	mkws("tmp-build-6")
	if err := RemoveStale(other); err == nil {
		t.Error("RemoveStale through a symlinked .ganger: no error")
	}
	if _, err := os.Stat(filepath.Join(gdir, "tmp-build-6")); err != nil {
		t.Errorf("RemoveStale went through a symlinked .ganger: %v", err)
	}
}
