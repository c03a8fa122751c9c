package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayering enforces the package layout of docs/style.md: dependencies
// point inward. procfile and env are pure (standard library only, no other
// ganger package); runner knows nothing of the CLI, colour, terminal
// detection or fsnotify, and imports nothing beyond runnerAllowed.
func TestLayering(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found (%v): cannot check the import graph", err)
	}
	const module = "github.com/gangerdev/ganger"
	root := moduleRoot(t, goTool)
	deps := func(pkg string) []string {
		t.Helper()
		cmd := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderrOf(err))
		}
		return strings.Fields(string(out))
	}

	for _, pkg := range []string{"procfile", "env"} {
		for _, d := range deps("./" + pkg) {
			if d != module+"/"+pkg {
				t.Errorf("%s imports %s: it may import the standard library only", pkg, d)
			}
		}
	}

	// config reads ganger.yml: YAML and the standard library, no other
	// ganger package (the CLI hands it the Procfile's types and the glob
	// check).
	for _, d := range deps("./config") {
		if d != module+"/config" && !strings.HasPrefix(d, "go.yaml.in/yaml/") {
			t.Errorf("config imports %s: it may import the standard library and go.yaml.in/yaml only", d)
		}
	}

	forbidden := []string{
		module + "/cmd/",
		"github.com/urfave/cli",
		"github.com/fatih/color",
		"github.com/fsnotify/fsnotify",
		"github.com/mattn/go-isatty",
	}
	for _, d := range deps("./runner") {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("runner imports %s: it must not know %s", d, strings.TrimSuffix(f, "/"))
			}
		}
		if d != module+"/runner" && !allowed(d) {
			t.Errorf("runner imports %s: it may import the standard library and %s only (a new dependency of the core is a design decision: add it to runnerAllowed deliberately)", d, strings.Join(runnerAllowed, ", "))
		}
	}
}

// runnerAllowed are the module paths runner may import besides the standard
// library: x/sys for the Linux process calls, and creack/pty for Spec.TTY
// (children on a pseudo-terminal).
var runnerAllowed = []string{"golang.org/x/sys", "github.com/creack/pty"}

func allowed(pkg string) bool {
	for _, a := range runnerAllowed {
		if pkg == a || strings.HasPrefix(pkg, a+"/") {
			return true
		}
	}
	return false
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

// TestNoHTTPClient keeps net/http and crypto/tls out of the ganger binary.
// Every package linked in is initialised, and so paged in, by every
// command, the supervisor of "ganger start" included: these two cost it
// 1.7 MiB of RSS with 50 children (bench/README.md). Tarball buildpacks are
// downloaded with curl instead.
func TestNoHTTPClient(t *testing.T) {
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
		if d == "net/http" || d == "crypto/tls" {
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
