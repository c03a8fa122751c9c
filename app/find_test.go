package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	base := t.TempDir()
	app := filepath.Join(base, "app")
	deep := filepath.Join(app, "a", "b")
	envOnly := filepath.Join(base, "envonly", "sub")
	slugOnly := filepath.Join(base, "slugonly")
	for _, d := range []string{deep, envOnly, filepath.Join(app, "a", "Procfile"), filepath.Join(slugOnly, ".ganger", "slug")} {
		if err := os.MkdirAll(d, 0o755); err != nil { // a directory named Procfile is no Procfile
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(app, "Procfile"), filepath.Join(base, "envonly", ".env")} {
		if err := os.WriteFile(f, []byte("web: x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name           string
		root, pf, wd   string
		need           Need
		want, errMatch string
	}{
		{name: "here", wd: app, want: app},
		{name: "from deep below", wd: deep, want: app},
		{name: "past a directory named Procfile", wd: filepath.Join(app, "a"), want: app},
		{name: "-d wins", root: deep, wd: app, want: deep},
		{name: "-f's directory", pf: filepath.Join(deep, "Procfile.dev"), wd: base, want: deep},
		{name: "a .env for run", wd: envOnly, need: NeedApp, want: filepath.Join(base, "envonly")},
		{name: "not for start", wd: envOnly, errMatch: "no app found: no directory from " + envOnly + " up holds a Procfile"},
		{name: "a slug for --slug", wd: slugOnly, need: NeedSlug, want: slugOnly},
		{name: "build: a Procfile up, else here", wd: deep, need: NeedSource, want: app},
		{name: "build falls back to here", wd: slugOnly, need: NeedSource, want: slugOnly},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Find(tt.root, tt.pf, tt.wd, tt.need)
			if tt.errMatch != "" {
				var ue *UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("Find = %q, %v; want a UsageError containing %q", got, err, tt.errMatch)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Find = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
