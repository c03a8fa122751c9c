package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLayering enforces the package layout: dependencies point down, from
// cmd/ganger through app to the packages that do the work. Each package may
// import the standard library and what its row allows, nothing else; a new
// edge is a design decision, made here deliberately.
func TestLayering(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found (%v): cannot check the import graph", err)
	}
	const module = "github.com/gangerdev/ganger/"
	cmd := exec.Command(goTool, "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...")
	cmd.Dir = moduleRoot(t, goTool)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderrOf(err))
	}
	inner := func(pkgs ...string) []string {
		out := make([]string, len(pkgs))
		for i, p := range pkgs {
			out[i] = module + p
		}
		return out
	}
	sys := "golang.org/x/sys/"
	// allowed lists, for each package, the non-standard imports it may
	// have; an entry ending in "/" allows every package below it.
	allowed := map[string][]string{
		"procfile":       nil, // the Procfile's rules: the standard library only
		"env":            nil, // .env's rules: the standard library only
		"config":         {"go.yaml.in/yaml/v3"},
		"runner":         {sys, "github.com/creack/pty"}, // no CLI, colour, terminal detection or fsnotify
		"runner/control": {sys},
		"runner/ports":   nil,
		"runner/logmux":  append(inner("runner"), "github.com/fatih/color"),
		"runner/journal": inner("runner", "runner/logmux"), // recent output and the rotating log
		"runner/watch":   append(inner("internal/gitignore"), "github.com/fsnotify/fsnotify"),
		"buildpack":      append(inner("env", "procfile", "internal/gitignore"), "go.yaml.in/yaml/v3", sys), // no runner
		"export":         inner("env", "procfile"),                                                          // no runner
		"app": inner("procfile", "env", "config", "buildpack", "export", // no CLI, no terminal
			"runner", "runner/control", "runner/journal", "runner/logmux", "runner/ports", "runner/watch", "app/router"),
		// the HTTP router in front of the web processes: the standard
		// library only, and not net/http (TestNoNetHTTP); its owner
		// translates the supervisor's events
		"app/router": nil,
		"cmd/ganger": append(inner("app", "buildpack", "config", "export", "procfile", "env", "runner", "runner/control", "runner/journal", "runner/logmux"),
			"github.com/urfave/cli/v2", "github.com/mattn/go-isatty", sys),
		// gitignore-syntax patterns, shared by runner/watch and buildpack:
		// the standard library only
		"internal/gitignore": nil,
	}
	standard := func(p string) bool { return !strings.Contains(strings.Split(p, "/")[0], ".") }
	seen := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg, imports := strings.TrimPrefix(fields[0], module), fields[1:]
		if strings.HasPrefix(pkg, "bench/") || strings.HasPrefix(pkg, "examples/") {
			continue // programs of their own, which nothing imports
		}
		rule, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s has no row in TestLayering: say what it may import", pkg)
			continue
		}
		seen++
		for _, imp := range imports {
			if standard(imp) {
				continue
			}
			if !slices.ContainsFunc(rule, func(a string) bool { return imp == a || strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a) }) {
				t.Errorf("%s imports %s, which its row in TestLayering does not allow", pkg, imp)
			}
		}
	}
	if seen != len(allowed) {
		t.Errorf("go list showed %d of the %d packages TestLayering has rows for", seen, len(allowed))
	}
}

// moduleRoot is the directory of ganger's go.mod.
func moduleRoot(t *testing.T, goTool string) string {
	t.Helper()
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v\n%s", err, stderrOf(err))
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		t.Skip("not inside ganger's module: cannot check the import graph")
	}
	return filepath.Dir(gomod)
}

func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

// TestNoNetHTTP keeps net/http (and all below it) and crypto/tls out of
// the ganger binary. Every package linked in is initialised, and so paged
// in, by every command, the supervisor of "ganger start" included: linking
// them made the binary 10.1 -> 16.6 MB and cost every ganger process about
// 2.6 MiB of RSS (bench/README.md). The router of "ganger start --router"
// speaks HTTP/1.1 by hand on net and bufio (app/router/http1.go); tarball
// buildpacks are downloaded with curl.
func TestNoNetHTTP(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found (%v): cannot check the import graph", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", ".")
	cmd.Dir = filepath.Join(moduleRoot(t, goTool), "cmd", "ganger")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderrOf(err))
	}
	for _, d := range strings.Fields(string(out)) {
		if d == "net/http" || strings.HasPrefix(d, "net/http/") || d == "crypto/tls" || d == "crypto/x509" {
			t.Errorf("ganger links %s; keep it out of the binary (see the comment on this test)", d)
		}
	}
}

// TestBuildsWithoutDocs builds ganger as the README installs it, with
// urfave/cli's urfave_cli_no_docs tag, which drops its man-page and
// Markdown generators (and blackfriday and md2man with them): ganger must
// not come to need them.
func TestBuildsWithoutDocs(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found (%v): cannot build", err)
	}
	dir := filepath.Join(moduleRoot(t, goTool), "cmd", "ganger")
	build := exec.Command(goTool, "build", "-tags", "urfave_cli_no_docs", "-o", filepath.Join(t.TempDir(), "ganger"), ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags urfave_cli_no_docs: %v\n%s", err, out)
	}
	list := exec.Command(goTool, "list", "-tags", "urfave_cli_no_docs", "-deps", ".")
	list.Dir = dir
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderrOf(err))
	}
	for _, d := range strings.Fields(string(out)) {
		if strings.Contains(d, "blackfriday") || strings.Contains(d, "md2man") {
			t.Errorf("ganger built with urfave_cli_no_docs still links %s", d)
		}
	}
}
