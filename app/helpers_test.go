package app

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/config"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
)

// testApp is an app with the given Procfile text rooted in a temporary
// directory, with an empty inherited environment: decisions are tested on
// it without files or processes.
func testApp(t *testing.T, pf string) *App {
	t.Helper()
	root := t.TempDir()
	p, err := procfile.Parse(strings.NewReader(pf), filepath.Join(root, "Procfile"))
	if err != nil {
		t.Fatal(err)
	}
	return &App{Root: root, ProcfilePath: p.Path, Procfile: p, Env: env.FromEnviron(nil), Port: DefaultPort, opts: Options{Timeout: DefaultTimeout}}
}

// testConfig parses ganger.yml text.
func testConfig(t *testing.T, yml string) *config.File {
	t.Helper()
	cf, err := config.Parse(strings.NewReader(yml), "ganger.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cf
}
