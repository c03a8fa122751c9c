package buildpack

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSwapKeepsAHeldSlug: a build replacing a slug that a start --slug
// holds keeps the previous one (renamed: the processes running in it go
// on), and the next build removes it once nothing holds it.
func TestSwapKeepsAHeldSlug(t *testing.T) {
	app := t.TempDir()
	dst := filepath.Join(app, "slug")
	mk := func(name, content string) string {
		t.Helper()
		dir := filepath.Join(app, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "v"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	if kept, err := swapDir(mk("b1", "1"), dst); err != nil || kept != "" {
		t.Fatalf("first swap: %q, %v", kept, err)
	}
	release, err := (&Slug{Dir: dst}).Hold()
	if err != nil {
		t.Fatal(err)
	}
	// A process of the start, running in the slug: its cwd.
	cwd, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer cwd.Close()

	kept, err := swapDir(mk("b2", "2"), dst)
	if err != nil || kept != dst+".old.1" {
		t.Fatalf("swap of a held slug: kept %q, %v; want %s", kept, err, dst+".old.1")
	}
	if b, err := os.ReadFile(filepath.Join(kept, "v")); err != nil || string(b) != "1" {
		t.Fatalf("the held slug's files: %q, %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "v")); string(b) != "2" {
		t.Fatalf("the new slug holds %q, want 2", b)
	}
	// Still held: a third build keeps it too, and removes nothing held.
	if _, err := swapDir(mk("b3", "3"), dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("a held old slug was removed: %v", err)
	}
	release()
	if _, err := swapDir(mk("b4", "4"), dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kept); !os.IsNotExist(err) {
		t.Errorf("the old slug outlived its start: %v", err)
	}
	if olds, _ := filepath.Glob(dst + ".old.*"); len(olds) != 0 {
		t.Errorf("old slugs left: %v", olds)
	}
}
