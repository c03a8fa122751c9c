package buildpack

import (
	"os"
	"path/filepath"
	"testing"
)

// TestHookForceBackup: --force keeps the hook it replaces when ganger did
// not write it: as pre-push.ganger-backup, then .1, .2, never over an
// earlier backup, and says where; ganger's own hook is replaced without a
// backup.
func TestHookForceBackup(t *testing.T) {
	const script = "#!/bin/sh\nexec ganger check\n"
	hooks := filepath.Join(t.TempDir(), "hooks")
	path := filepath.Join(hooks, HookName)
	foreign := []string{"#!/bin/sh\necho first\n", "#!/bin/sh\necho second\n", "#!/bin/sh\necho third\n"}
	wantBackups := []string{path + ".ganger-backup", path + ".ganger-backup.1", path + ".ganger-backup.2"}
	for i, body := range foreign {
		writeFiles(t, hooks, map[string]string{HookName + ".new": body})
		if err := os.Chmod(filepath.Join(hooks, HookName+".new"), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(hooks, HookName+".new"), path); err != nil {
			t.Fatal(err)
		}
		got, err := InstallHook(hooks, script, true)
		if err != nil {
			t.Fatal(err)
		}
		if got.Path != path || got.Backup != wantBackups[i] {
			t.Errorf("install %d: %+v, want backup %s", i, got, wantBackups[i])
		}
		for j := 0; j <= i; j++ {
			if b := readFile(t, wantBackups[j]); b != foreign[j] {
				t.Errorf("backup %s = %q, want %q", wantBackups[j], b, foreign[j])
			}
		}
		if fi, err := os.Stat(wantBackups[i]); err != nil || fi.Mode().Perm() != 0o750 {
			t.Errorf("backup mode: %v %v", fi, err)
		}
		if ours, _, _ := hookIsOurs(path); !ours {
			t.Errorf("install %d: the hook is not ganger's", i)
		}
	}

	// Ganger's own hook: replaced, no backup.
	got, err := InstallHook(hooks, script, false)
	if err != nil || got.Backup != "" {
		t.Errorf("replacing ganger's hook: %+v %v", got, err)
	}
	if _, err := os.Lstat(path + ".ganger-backup.3"); err == nil {
		t.Error("ganger's own hook was backed up")
	}

	// A symlinked hook is kept as the symlink.
	hooks2 := filepath.Join(t.TempDir(), "hooks")
	target := filepath.Join(t.TempDir(), "shared-hook")
	writeFiles(t, hooks2, map[string]string{HookName: "->" + target})
	if _, err := InstallHook(hooks2, script, true); err != nil {
		t.Fatal(err)
	}
	if l, err := os.Readlink(filepath.Join(hooks2, HookName+".ganger-backup")); err != nil || l != target {
		t.Errorf("symlink backup -> %q, %v", l, err)
	}

	// Without --force nothing moves.
	hooks3 := filepath.Join(t.TempDir(), "hooks")
	writeFiles(t, hooks3, map[string]string{HookName: foreign[0]})
	if got, err := InstallHook(hooks3, script, false); err == nil || got.Backup != "" {
		t.Errorf("without force: %+v %v", got, err)
	}
	if ents, _ := os.ReadDir(hooks3); len(ents) != 1 {
		t.Errorf("without force, hooks dir: %v", ents)
	}
}
