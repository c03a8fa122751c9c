package export

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var jsonUnmarshal = json.Unmarshal

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readManifestFile(t *testing.T, dir string) manifest {
	t.Helper()
	var m manifest
	if err := json.Unmarshal(readFile(t, dir, ManifestName), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// names lists the entries under dir (recursively, slash paths, dirs with a
// trailing slash).
func names(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteManifestAndModes(t *testing.T) {
	dir, res := export(t, "systemd", goldenApp(), Options{})
	m := readManifestFile(t, dir)
	if len(m.Exports) != 1 || m.Exports[0].App != "myapp" || m.Exports[0].Format != "systemd" {
		t.Fatalf("manifest %+v", m)
	}
	var listed []string
	for _, f := range m.Exports[0].Files {
		listed = append(listed, f.Path)
		if f.SHA256 != sha(readFile(t, dir, f.Path)) {
			t.Errorf("%s: manifest sha256 does not match the file", f.Path)
		}
	}
	if !slices.Equal(listed, res.Written) {
		t.Errorf("manifest lists %q, Write wrote %q", listed, res.Written)
	}
	if m := mode(t, filepath.Join(dir, ManifestName)); m != 0o600 {
		t.Errorf("manifest mode %v, want 0600", m)
	}
	for _, p := range res.Written {
		want := os.FileMode(0o644)
		if strings.HasSuffix(p, ".env") {
			want = 0o600
		}
		if got := mode(t, filepath.Join(dir, p)); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
	for _, n := range names(t, dir) {
		if strings.Contains(n, ".tmp-") {
			t.Errorf("temporary file left behind: %s", n)
		}
	}
	// Re-running with nothing changed rewrites the same files.
	if _, err := Write("systemd", dir, goldenApp(), Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRefusesFilesItDidNotWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, dir string) // after a first export into dir, if first
		first   bool
		reason  string
	}{
		{"foreign", func(t *testing.T, dir string) { writeFile(t, dir, "myapp.target", "mine\n") }, false, "not written by ganger"},
		{"edited", func(t *testing.T, dir string) { writeFile(t, dir, "myapp-web@.service", "edited\n") }, true, "changed since"},
		{"edited env", func(t *testing.T, dir string) { writeFile(t, dir, "myapp.env", "A=1\n") }, true, "changed since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.first {
				if _, err := Write("systemd", dir, goldenApp(), Options{}); err != nil {
					t.Fatal(err)
				}
			}
			tc.prepare(t, dir)
			before := readTree(t, dir)
			app := goldenApp()
			app.Timeout = 9 * time.Second // so that every file changes
			_, err := Write("systemd", dir, app, Options{})
			var ce *ConflictError
			if !errors.Is(err, ErrConflict) || !errors.As(err, &ce) {
				t.Fatalf("want a conflict, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), "--force") {
				t.Errorf("error %q lacks %q or the --force hint", err, tc.reason)
			}
			after := readTree(t, dir)
			if len(before) != len(after) {
				t.Fatalf("files changed although the export was refused: %q", names(t, dir))
			}
			for p, b := range before {
				if string(after[p]) != string(b) {
					t.Errorf("%s changed although the export was refused", p)
				}
			}
			if _, err := Write("systemd", dir, app, Options{Force: true}); err != nil {
				t.Fatalf("with Force: %v", err)
			}
			if got := readFile(t, dir, "myapp-web@.service"); !strings.Contains(string(got), "TimeoutStopSec=9") {
				t.Errorf("Force did not overwrite:\n%s", got)
			}
		})
	}
}

func TestWriteAcceptsIdenticalFilesWithoutManifest(t *testing.T) {
	dir, _ := export(t, "compose", goldenApp(), Options{})
	if err := os.Remove(filepath.Join(dir, ManifestName)); err != nil {
		t.Fatal(err)
	}
	if _, err := Write("compose", dir, goldenApp(), Options{}); err != nil {
		t.Fatalf("re-export of identical files without a manifest: %v", err)
	}
}

func TestWriteNeverFollowsSymlinks(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	writeFile(t, outside, "victim", "precious\n")
	for _, tc := range []struct{ format, link string }{
		{"systemd", "myapp.env"},
		{"systemd", "myapp-web@1.service.d"}, // a directory on the way
		{"runit", "myapp-web-1/env"},
		{"systemd", ManifestName},
	} {
		t.Run(tc.format+"/"+tc.link, func(t *testing.T) {
			dir := t.TempDir()
			target := victim
			if !strings.Contains(tc.link, ".") || strings.HasSuffix(tc.link, ".d") {
				target = outside
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, tc.link)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dir, tc.link)); err != nil {
				t.Fatal(err)
			}
			for _, force := range []bool{false, true} {
				if _, err := Write(tc.format, dir, goldenApp(), Options{Force: force}); err == nil {
					t.Fatalf("Force=%v: a symlink at %s was accepted", force, tc.link)
				} else if !strings.Contains(err.Error(), tc.link) {
					t.Errorf("the error does not name %s: %v", tc.link, err)
				}
			}
			if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
				t.Fatalf("the symlink's target was written: %q", b)
			}
			if n := names(t, outside); !slices.Equal(n, []string{"victim"}) {
				t.Fatalf("files appeared outside the export directory: %q", n)
			}
		})
	}
}

func TestWriteRemovesStaleFiles(t *testing.T) {
	for _, format := range []string{"systemd", "runit", "launchd"} {
		t.Run(format, func(t *testing.T) {
			dir, _ := export(t, format, goldenApp(), Options{})
			before := names(t, dir)
			smaller := goldenApp()
			smaller.Types[0].Instances = smaller.Types[0].Instances[:1]
			res, err := Write(format, dir, smaller, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Removed) == 0 {
				t.Fatal("nothing removed after scaling web from 2 to 1")
			}
			after := names(t, dir)
			for _, n := range after {
				if strings.Contains(n, "web@2") || strings.Contains(n, "web-2") {
					t.Errorf("%s left behind after scaling down", n)
				}
			}
			if len(after) >= len(before) {
				t.Errorf("before %q\nafter %q", before, after)
			}
			// Scaling back up is an ordinary export again.
			if _, err := Write(format, dir, goldenApp(), Options{}); err != nil {
				t.Fatal(err)
			}
			if got := names(t, dir); !slices.Equal(got, before) {
				t.Errorf("after scaling back: %q, want %q", got, before)
			}
		})
	}
}

func TestWriteLeavesForeignFilesInStaleDirs(t *testing.T) {
	dir, _ := export(t, "runit", goldenApp(), Options{})
	writeFile(t, dir, "myapp-web-2/supervise/status", "runsv\n")
	smaller := goldenApp()
	smaller.Types[0].Instances = smaller.Types[0].Instances[:1]
	res, err := Write("runit", dir, smaller, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dir, "myapp-web-2/supervise/status"); string(got) != "runsv\n" {
		t.Errorf("a file ganger did not write was touched: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "myapp-web-2/run")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stale run script survived: %v", err)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "myapp-web-2") {
		t.Errorf("notes %q, want one about myapp-web-2", res.Notes)
	}
}

func TestWriteKeepsEditedStaleFiles(t *testing.T) {
	dir, _ := export(t, "launchd", goldenApp(), Options{})
	writeFile(t, dir, "myapp-web-2.plist", "edited\n")
	smaller := goldenApp()
	smaller.Types[0].Instances = smaller.Types[0].Instances[:1]
	_, err := Write("launchd", dir, smaller, Options{})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "myapp-web-2.plist") {
		t.Fatalf("want a conflict naming the edited stale file, got %v", err)
	}
	if _, err := Write("launchd", dir, smaller, Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "myapp-web-2.plist")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Force kept the stale file: %v", err)
	}
}

func TestWriteTwoAppsShareADirectory(t *testing.T) {
	dir := t.TempDir()
	a, b := goldenApp(), goldenApp()
	b.Name = "other"
	for _, app := range []App{a, b} {
		if _, err := Write("systemd", dir, app, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	a.Types = a.Types[:1]
	if _, err := Write("systemd", dir, a, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"other.target", "other-worker@.service", "other.env", "myapp.target"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "myapp-worker@.service")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("myapp-worker@.service survived: %v", err)
	}
	if m := readManifestFile(t, dir); len(m.Exports) != 2 {
		t.Errorf("manifest: %+v", m)
	}

	// Both apps' compose.yaml would be the same file.
	shared := t.TempDir()
	if _, err := Write("compose", shared, a, Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := Write("compose", shared, b, Options{})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "belongs to the compose export of myapp") {
		t.Fatalf("want a conflict over compose.yaml, got %v", err)
	}
}

func TestWriteValidation(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		change       func(*App)
		want         string
	}{
		{"unknown format", "upstart", func(*App) {}, "formats: systemd, supervisord, launchd, runit, compose, kubernetes"},
		{"app name", "systemd", func(a *App) { a.Name = "my app" }, "--app NAME"},
		{"relative root", "systemd", func(a *App) { a.Root = "srv" }, "not an absolute path"},
		{"relative log", "runit", func(a *App) { a.LogDir = "log" }, "--log DIR"},
		{"no image", "compose", func(a *App) { a.Image = "" }, "--image REF"},
		{"config key", "systemd", func(a *App) { a.Config = append(a.Config, envVar("A-B", "v")) }, `"A-B"`},
		{"newline in command", "systemd", func(a *App) { a.Types[0].Command = "a\nb" }, "control character"},
		{"duplicate type", "systemd", func(a *App) { a.Types = append(a.Types, a.Types[0]) }, "twice"},
		{"no types", "systemd", func(a *App) { a.Types = nil }, "nothing to export"},
		{"bad user", "supervisord", func(a *App) { a.User = "a;b" }, "user"},
		{"log dir with %", "supervisord", func(a *App) { a.LogDir = "/var/log/100%" }, "supervisord"},
		{"kubernetes name", "kubernetes", func(a *App) { a.Name = "9lives" }, "--app NAME"},
		{"kubernetes clash", "kubernetes", func(a *App) { a.Types[2].Name = "web_" }, "both become"},
		{"launchd control char", "launchd", func(a *App) { a.Config = append(a.Config, envVar("ESC", "\x1b[31mred")) }, "XML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := goldenApp()
			tc.change(&app)
			dir := t.TempDir()
			_, err := Write(tc.format, dir, app, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
			if n := names(t, dir); len(n) != 0 {
				t.Errorf("files written despite the error: %q", n)
			}
		})
	}
}

// TestErrorsNeverShowValues: secrets appear in no error message.
func TestErrorsNeverShowValues(t *testing.T) {
	for _, format := range []string{"runit", "launchd", "systemd"} {
		app := goldenApp()
		app.Config = append(app.Config, envVar("TOKEN", "s3cr3t\xff\x1b "))
		_, err := Write(format, t.TempDir(), app, Options{})
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "TOKEN") {
			t.Errorf("%s: want an error naming TOKEN without its value, got %v", format, err)
		}
	}
}

func TestTemplateOverride(t *testing.T) {
	tpl := t.TempDir()
	writeFile(t, tpl, "process.service.tmpl", "[Service]\nExecStart=/bin/sh -c {{systemdWord .Type.Command}}\n# custom {{.App.Name}}\n")
	dir, _ := export(t, "systemd", goldenApp(), Options{Template: tpl})
	if got := string(readFile(t, dir, "myapp-web@.service")); !strings.Contains(got, "# custom myapp") {
		t.Errorf("the user's template was not used:\n%s", got)
	}
	if got := string(readFile(t, dir, "myapp.target")); !strings.Contains(got, "Wants=myapp-web@1.service") {
		t.Errorf("the built-in target template was not used:\n%s", got)
	}

	for name, content := range map[string]string{
		"proces.service.tmpl":  "x",                        // misspelt
		"process.service.tmpl": "{{.Nope}}",                // missing field
		"app.target.tmpl":      "line\n{{if}}\n",           // syntax
		"instance.conf.tmpl":   "{{systemdPath \"a\\n\"}}", // refused value
	} {
		tpl := t.TempDir()
		writeFile(t, tpl, name, content)
		_, err := Write("systemd", t.TempDir(), goldenApp(), Options{Template: tpl})
		if err == nil || !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), "path") {
			t.Errorf("template %s %q: want an error naming it, got %v", name, content, err)
		}
	}
	if _, err := Templates("systemd"); err != nil {
		t.Fatal(err)
	}
}

func TestScaledToZero(t *testing.T) {
	app := goldenApp() // clock has no instances
	dir, _ := export(t, "supervisord", app, Options{})
	if conf := string(readFile(t, dir, "myapp.conf")); strings.Contains(conf, "myapp-clock") {
		t.Error("supervisord has a program for a type scaled to 0")
	}
	dir, _ = export(t, "systemd", app, Options{})
	if _, err := os.Stat(filepath.Join(dir, "myapp-clock@.service")); err != nil {
		t.Error("systemd lost the template unit of a type scaled to 0")
	}
	if target := string(readFile(t, dir, "myapp.target")); strings.Contains(target, "clock") {
		t.Error("the target wants an instance of a type scaled to 0")
	}
}

func TestSupervisordEnvFileOwner(t *testing.T) {
	app := goldenApp()
	app.User = "nobody"
	dir, res := export(t, "supervisord", app, Options{})
	fi, err := os.Stat(filepath.Join(dir, "myapp.env"))
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if os.Geteuid() == 0 {
		if st.Uid != 65534 {
			t.Errorf("myapp.env is owned by uid %d, want nobody (65534), who sources it", st.Uid)
		}
	} else if len(res.Notes) == 0 {
		t.Error("no note that nobody cannot read myapp.env")
	}
}
