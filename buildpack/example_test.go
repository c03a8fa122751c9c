package buildpack

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gangerdev/ganger/env"
)

// TestExampleApp builds examples/buildpack-app with its bundled buildpack
// (selected through its .buildpacks), runs its release command and serves
// one request from the slug, the way the runner will.
func TestExampleApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	requireTool(t, "go")
	app := filepath.Join(t.TempDir(), "buildpack-app")
	if _, err := copyTree(context.Background(), filepath.Join("..", "examples", "buildpack-app"), app,
		func(rel string, _ bool) bool { return rel == GangerDir }); err != nil {
		t.Fatal(err)
	}
	sel, err := Select(SelectOptions{AppDir: app, Config: map[string]string{}})
	if err != nil || sel.Source != FromFile || len(sel.Refs) != 1 || sel.Refs[0].Path != filepath.Join(app, "buildpack") {
		t.Fatalf("Select = %+v, %v", sel, err)
	}
	// Reuse this machine's Go build cache through a config var (ENV_DIR).
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	opts := buildOpts(t, app, &out)
	opts.Buildpacks = sel.Refs
	opts.Config = []env.Var{{Key: "GOCACHE", Value: strings.TrimSpace(string(gocache)), Source: ".env", Line: 1}}
	slug, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	for _, want := range []string{"-----> Tiny Go app detected", "built bin/hello-server"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, gone := range []string{"buildpack", "README.md"} {
		if _, err := os.Stat(filepath.Join(slug.Dir, gone)); err == nil {
			t.Errorf("slug has %s despite .slugignore", gone)
		}
	}
	procfile := map[string]string{}
	for _, line := range strings.Split(readFile(t, slug.Procfile), "\n") {
		if name, cmd, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(name, "#") {
			procfile[name] = strings.TrimSpace(cmd)
		}
	}
	if d := slug.Defaults([]string{"web", "release"}); len(d) != 1 || d[0].Name != "console" {
		t.Errorf("Defaults = %v", d)
	}
	environ := []string{"HOME=" + slug.Dir, "PATH=" + os.Getenv("PATH"), "PORT=0", "DYNO=web.1"}
	for k, v := range slug.ConfigVars() {
		environ = append(environ, k+"="+v)
	}

	// Release phase.
	argv := ProcessCommand(procfile["release"])
	rel := exec.Command(argv[0], argv[1:]...)
	rel.Env, rel.Dir = environ, slug.Dir
	if got, err := rel.CombinedOutput(); err != nil || !strings.Contains(string(got), `release phase: "hello from the buildpack"`) {
		t.Errorf("release: %q %v", got, err)
	}

	// web, in its own process group, stopped by SIGTERM to the group.
	argv = ProcessCommand(procfile["web"])
	web := exec.Command(argv[0], argv[1:]...)
	web.Env, web.Dir = environ, slug.Dir
	web.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := web.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	web.Stderr = os.Stderr
	if err := web.Start(); err != nil {
		t.Fatal(err)
	}
	pid := web.Process.Pid
	defer syscall.Kill(-pid, syscall.SIGKILL)
	lines := bufio.NewReader(stdout)
	first, err := lines.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "listening on ") {
		t.Fatalf("first line %q, %v", first, err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(first, "listening on "))
	port := addr[strings.LastIndex(addr, ":")+1:]
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "hello from the buildpack from buildpack-app") || !strings.Contains(string(body), "dyno web.1") {
		t.Errorf("body = %q", body)
	}
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(lines)
	if err := web.Wait(); err != nil || !strings.Contains(string(rest), "shutting down") {
		t.Errorf("web exit: %v, output %q", err, rest)
	}
}
