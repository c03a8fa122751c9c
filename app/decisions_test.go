package app

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/watch"
)

// TestSlugFormation checks what start --slug runs when nothing is named:
// the slug's Procfile types, and of the buildpacks' default types only web.
func TestSlugFormation(t *testing.T) {
	entries := func(names ...string) []procfile.Entry {
		var out []procfile.Entry
		for _, n := range names {
			out = append(out, procfile.Entry{Name: n, Command: "./" + n})
		}
		return out
	}
	for _, tt := range []struct {
		name     string
		entries  []procfile.Entry
		defaults []string
		want     procfile.Formation // nil: one of each
	}{
		{"no defaults", entries("web", "worker"), nil, nil},
		{"default web only", entries("worker", "web"), []string{"web"}, nil},
		{"default console left out", entries("web", "console"), []string{"console"}, procfile.Formation{"all": 1, "console": 0}},
		{"only defaults: web of them", entries("web", "console", "rake"), []string{"web", "console", "rake"}, procfile.Formation{"all": 1, "console": 0, "rake": 0}},
		{"only non-web defaults: none, as on the platform", entries("console", "rake"), []string{"console", "rake"}, procfile.Formation{"all": 0}},
		{"release in the Procfile does not count", entries("release", "console"), []string{"console"}, procfile.Formation{"all": 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := slugFormation(tt.entries, tt.defaults)
			if !maps.Equal(got, tt.want) {
				t.Errorf("slugFormation = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReloadDecisions checks what a batch of changes does: which of the
// app's files are read again, which types restart, and the reason given.
func TestReloadDecisions(t *testing.T) {
	const yml = "processes:\n  web:\n    watch: [\"**/*.go\"]\n  assets:\n    watch: [\"assets/**\"]\n  migrate:\n    oneshot: true\n"
	for _, tt := range []struct {
		name     string
		paths    []string
		overflow bool
		envFiles []string
		gone     []string // paths not on disk when the burst settled
		reload   [3]bool  // env, Procfile, ganger.yml
		restart  []string
		reason   string
	}{
		{name: "go file: web and the unglobbed worker", paths: []string{"cmd/main.go"}, restart: []string{"web", "worker"}, reason: "cmd/main.go changed"},
		{name: "asset: assets and worker", paths: []string{"assets/app.css", "assets/x.js"}, restart: []string{"worker", "assets"}, reason: "assets/app.css and 1 more changed"},
		{name: "env file only reloads", paths: []string{".env"}, reload: [3]bool{true, false, false}},
		{name: "named env file", paths: []string{"config/.env.dev"}, envFiles: []string{"config/.env.dev"}, reload: [3]bool{true, false, false}},
		{name: ".env is not ours when -e names others", paths: []string{".env"}, envFiles: []string{"config/.env.dev"}, restart: []string{"worker"}, reason: ".env changed"},
		{name: "Procfile and ganger.yml", paths: []string{"Procfile", "ganger.yml"}, reload: [3]bool{false, true, true}},
		{name: "mixed", paths: []string{"Procfile", "README.md"}, reload: [3]bool{false, true, false}, restart: []string{"worker"}, reason: "README.md changed"},
		{name: "sed -i's temporary file restarts nothing", paths: []string{"Procfile", "sedcZOIQV"}, gone: []string{"sedcZOIQV"}, reload: [3]bool{false, true, false}},
		{name: "a file created and removed in the burst", paths: []string{"src/a.go", "src/.a.go.swp"}, gone: []string{"src/.a.go.swp"}, restart: []string{"web", "worker"}, reason: "src/a.go changed"},
		{name: "overflow: everything", overflow: true, reload: [3]bool{true, true, true}, restart: []string{"web", "worker", "assets"}, reason: "files changed (too many to tell which)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := testApp(t, "web: ./web\nworker: ./worker\nassets: ./assets\nmigrate: ./migrate\n")
			for _, f := range tt.envFiles {
				a.EnvFiles = append(a.EnvFiles, filepath.Join(a.Root, f))
			}
			for _, p := range tt.paths {
				if slices.Contains(tt.gone, p) {
					continue
				}
				path := filepath.Join(a.Root, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d := classify(a, a.Root, watch.Batch{Paths: tt.paths, Overflow: tt.overflow})
			if got := [3]bool{d.envChanged, d.pfChanged, d.cfChanged}; got != tt.reload {
				t.Errorf("reload env, Procfile, ganger.yml = %v, want %v", got, tt.reload)
			}
			types, paths := d.restarts(a, testConfig(t, yml))
			var changed []string
			for _, t := range types {
				for _, p := range paths[t] {
					if !slices.Contains(changed, p) {
						changed = append(changed, p)
					}
				}
			}
			slices.Sort(changed)
			reason := ""
			if len(types) > 0 {
				reason = describeChange(changed, d.overflow)
			}
			if !slices.Equal(types, tt.restart) || reason != tt.reason {
				t.Errorf("restarts %v (%q), want %v (%q)", types, reason, tt.restart, tt.reason)
			}
		})
	}
}

// TestReloadReason names the changed keys of an env file, never values.
func TestReloadReason(t *testing.T) {
	old := testApp(t, "web: ./web\n")
	old.Env.Set("A", "1", ".env")
	old.Env.Set("B", "secret", ".env")
	a := testApp(t, "web: ./web\n")
	a.EnvFiles = []string{".env"}
	a.Env.Set("A", "1", ".env")
	a.Env.Set("B", "hunter2", ".env")
	a.Env.Set("C", "new", ".env")
	got := reloadReason(old, a, decision{envChanged: true, cfChanged: true})
	if want := ".env changed (B, C); ganger.yml changed"; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
}

// TestBootVerdicts feeds the supervisor's events to the boot check's
// verdicts: ready, settled, oneshot, crashed, failed, timed out, stopped.
func TestBootVerdicts(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	specs := []runner.Spec{
		{Name: "web.1", Type: "web", Ready: runner.Readiness{Port: true}},
		{Name: "worker.1", Type: "worker"},
		{Name: "migrate.1", Type: "migrate", Oneshot: true},
		{Name: "crash.1", Type: "crash"},
		{Name: "bad.1", Type: "bad"},
		{Name: "slow.1", Type: "slow", Ready: runner.Readiness{Line: "up"}},
		{Name: "quit.1", Type: "quit"},
	}
	var settled []func()
	afterFunc := func(d time.Duration, f func()) *time.Timer {
		if d != 3*time.Second {
			t.Errorf("settle timer of %v, want 3s", d)
		}
		settled = append(settled, f)
		return nil
	}
	v := newVerdicts(specs, 3*time.Second, afterFunc)
	for _, e := range []runner.Event{
		{Kind: runner.Started, Name: "web.1", Time: at(0)},
		{Kind: runner.Started, Name: "worker.1", Time: at(0)},
		{Kind: runner.Started, Name: "migrate.1", Time: at(0)},
		{Kind: runner.Started, Name: "crash.1", Time: at(0)},
		{Kind: runner.Started, Name: "slow.1", Time: at(0)},
		{Kind: runner.Started, Name: "quit.1", Time: at(0)},
		{Kind: runner.Exited, Name: "quit.1", Time: at(5)}, // code 0, but not a oneshot
		{Kind: runner.Ready, Name: "web.1", Time: at(32), Port: 5000},
		{Kind: runner.Exited, Name: "migrate.1", Time: at(64)},
		{Kind: runner.Exited, Name: "crash.1", Time: at(80), Code: 3},
		{Kind: runner.StartFailed, Name: "bad.1", Time: at(1), Err: errors.New("exec: no such file")},
		{Kind: runner.Exited, Name: "web.1", Time: at(90), Code: 1}, // after its verdict: ignored
	} {
		v.event(e)
	}
	if len(settled) != 3 { // worker.1, crash.1 and quit.1: no readiness check, not oneshots
		t.Fatalf("%d settle timers, want 3", len(settled))
	}
	for _, f := range settled {
		f() // crash.1 is decided already; the timer changes nothing
	}
	select {
	case <-v.done:
		t.Fatal("done before slow.1 was decided")
	default:
	}
	v.timeout(time.Minute, at(60000))
	<-v.done
	v.finish(at(61000))
	want := []BootRow{
		{Name: "web.1", Pass: true, Took: 32 * time.Millisecond, Detail: "ready on :5000"},
		{Name: "worker.1", Pass: true, Took: 3 * time.Second, Detail: "still running after 3.0s"},
		{Name: "migrate.1", Pass: true, Took: 64 * time.Millisecond, Detail: "exited with code 0"},
		{Name: "crash.1", Pass: false, Took: 80 * time.Millisecond, Detail: "exited with code 3"},
		{Name: "bad.1", Pass: false, Detail: "failed to start: exec: no such file"},
		{Name: "slow.1", Pass: false, Took: time.Minute, Detail: "not ready after 60.0s"},
		{Name: "quit.1", Pass: false, Took: 5 * time.Millisecond, Detail: "exited with code 0"},
	}
	got := v.rows()
	for i := range want {
		w, g := want[i], got[i]
		if g.Name != w.Name || g.Pass != w.Pass || g.Took != w.Took || g.Detail != w.Detail {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestProblems flattens joined parse errors of every parser into one
// Problem each, with file and line, without knowing their types.
func TestProblems(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "Procfile")
	if err := os.WriteFile(pf, []byte("web: ./web\nbad line\nweb: again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("A=1\nB=\"open\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ganger.yml"), []byte("processes:\n  web:\n    restrat: always\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Check(Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Errors {
		got = append(got, filepath.Base(p.File)+":"+itoa(p.Line))
	}
	want := []string{"Procfile:2", "Procfile:3", ".env:2", "ganger.yml:3"}
	if !slices.Equal(got, want) || res.Valid {
		t.Errorf("problems at %v (valid %v), want %v", got, res.Valid, want)
	}
	if p := problemsOf(errors.New("plain")); len(p) != 1 || p[0].Message != "plain" || p[0].File != "" {
		t.Errorf("problemsOf(plain) = %+v", p)
	}
}

// TestLoopGuard: changes to the same file right after each start, three
// times in a row, stop restarting the type for that file; a change long
// after a start, or to another file, is a real edit.
func TestLoopGuard(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	g := newLoopGuard(200 * time.Millisecond)
	step := func(paths []string, startedAgo time.Duration, wantOK bool) string {
		t.Helper()
		t0 = t0.Add(10 * time.Second)
		ok, msg := g.check("web", g.filter("web", paths), t0.Add(-startedAgo), t0)
		if ok != wantOK {
			t.Fatalf("check(%v, started %v ago) = %v, want %v", paths, startedAgo, ok, wantOK)
		}
		return msg
	}
	self := []string{"started.txt"}
	step(self, time.Hour, true)                           // an edit long after the start
	step(self, 300*time.Millisecond, true)                // 1st right after a start
	step(self, 300*time.Millisecond, true)                // 2nd
	step([]string{"main.go"}, 300*time.Millisecond, true) // another file: the count starts again
	step(self, 300*time.Millisecond, true)                // the same as last time? no: not counted
	step(self, 300*time.Millisecond, true)                // 1st
	step(self, 300*time.Millisecond, true)                // 2nd
	msg := step(self, 300*time.Millisecond, false)        // 3rd in a row: given up
	for _, want := range []string{"web restarts itself", "started.txt", "--watch-ignore /started.txt", "watch_ignore"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if got := g.filter("web", []string{"started.txt", "main.go"}); !slices.Equal(got, []string{"main.go"}) {
		t.Errorf("after giving up, filter = %v, want only main.go", got)
	}
	if got := g.filter("worker", self); !slices.Equal(got, self) {
		t.Errorf("another type's filter = %v, want it unmuted", got)
	}
}
