package buildpack

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSlugTarballPrivate: the slug tarball holds the app's code and
// whatever the buildpacks baked in; it is written 0600, whatever the
// umask, and replaces an existing file atomically.
func TestSlugTarballPrivate(t *testing.T) {
	slug := t.TempDir()
	writeFiles(t, slug, map[string]string{"Procfile": "web: x\n", "config/key": "k"})
	file := filepath.Join(t.TempDir(), "slug.tgz")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := writeSlugTarball(context.Background(), slug, file); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("slug tarball mode %v, want 0600", fi.Mode().Perm())
		}
		if !tarNames(t, file)["./config/key"] {
			t.Errorf("tarball lacks ./config/key")
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".slug.tgz.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
