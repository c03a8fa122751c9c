package buildpack

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestProcessCommand(t *testing.T) {
	slug := t.TempDir()
	writeFiles(t, slug, map[string]string{
		".profile.d/b.sh":      `export ORDER="${ORDER}b,"`,
		".profile.d/a.sh":      `export ORDER="${ORDER}a,"; export FROM_PROFILE_D="$HOME"`,
		".profile.d/c.txt":     `export ORDER="${ORDER}not-sh,"`,
		".profile.d/10-sub.sh": `export ORDER="${ORDER}10,"`,
		".profile":             `export ORDER="${ORDER}profile,"`,
	})
	empty := t.TempDir()
	tests := []struct {
		name    string
		home    string
		command string
		want    string
		code    int
	}{
		{name: "profile order and cwd", home: slug, command: `echo "$ORDER|$PWD|$FROM_PROFILE_D"`,
			want: "10,a,b,profile,|" + slug + "|" + slug + "\n"},
		{name: "no profile at all", home: empty, command: `echo "[$ORDER]" "$PWD"`, want: "[] " + empty + "\n"},
		{name: "quotes pass through", home: slug, command: `printf '%s\n' "it's" '$HOME' "a  b" '$(echo no)'`,
			want: "it's\n$HOME\na  b\n$(echo no)\n"},
		{name: "shell syntax", home: slug, command: `for i in 1 2; do echo $i; done | tr '\n' ' '; echo`, want: "1 2 \n"},
		{name: "exit code", home: slug, command: `exit 7`, code: 7},
		{name: "config vars from the environment", home: slug, command: `echo "$PORT $DYNO"`, want: "5006 web.1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			argv := ProcessCommand(tc.command)
			if argv[len(argv)-1] != tc.command || strings.Contains(argv[2], tc.command) {
				t.Fatalf("command not passed as its own argument: %q", argv)
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = []string{"HOME=" + tc.home, "PATH=" + os.Getenv("PATH"), "PORT=5006", "DYNO=web.1"}
			cmd.Dir = t.TempDir() // the script must cd to $HOME itself
			out, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want || code != tc.code {
				t.Errorf("got %q exit %d, want %q exit %d", out, code, tc.want, tc.code)
			}
		})
	}
}

// TestProcessCommandExecs: a simple command replaces both shells, so the
// pid the runner started (and signals) is the program itself.
func TestProcessCommandExecs(t *testing.T) {
	slug := t.TempDir()
	writeFiles(t, slug, map[string]string{".profile.d/x.sh": "export X=1"})
	for _, command := range []string{`sh -c 'echo $$'`, `exec sh -c 'echo $$'`} {
		argv := ProcessCommand(command)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = []string{"HOME=" + slug, "PATH=" + os.Getenv("PATH")}
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if pid != cmd.Process.Pid {
			t.Errorf("%s: program ran as pid %d, started pid %d: a shell stayed in between", command, pid, cmd.Process.Pid)
		}
	}
}

func TestProcessArgv(t *testing.T) {
	slug := t.TempDir()
	writeFiles(t, slug, map[string]string{".profile.d/x.sh": "export X=from-profile"})
	argv := processArgv("sh", "-c", `echo "$X $1"`, "sh", "a b")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"HOME=" + slug, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil || string(out) != "from-profile a b\n" {
		t.Errorf("got %q %v", out, err)
	}
}

func TestHooks(t *testing.T) {
	const script = "#!/bin/sh\nexec ganger test\n"
	foreign := "#!/bin/sh\necho mine\n"
	tests := []struct {
		name      string
		existing  string // "" none, "ours", "foreign", "symlink"
		force     bool
		installOK bool
		wantBody  string
	}{
		{name: "fresh", installOK: true, wantBody: "#!/bin/sh\n" + HookMarker + "\nexec ganger test\n"},
		{name: "replace ours", existing: "ours", installOK: true, wantBody: "#!/bin/sh\n" + HookMarker + "\nexec ganger test\n"},
		{name: "foreign kept", existing: "foreign", wantBody: foreign},
		{name: "foreign forced", existing: "foreign", force: true, installOK: true, wantBody: "#!/bin/sh\n" + HookMarker + "\nexec ganger test\n"},
		{name: "symlink kept", existing: "symlink"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hooks := filepath.Join(t.TempDir(), "hooks")
			path := filepath.Join(hooks, HookName)
			target := filepath.Join(t.TempDir(), "target")
			switch tc.existing {
			case "ours":
				writeFiles(t, hooks, map[string]string{HookName: "#!/bin/sh\n" + HookMarker + "\nold\n"})
			case "foreign":
				writeFiles(t, hooks, map[string]string{HookName: foreign})
			case "symlink":
				writeFiles(t, filepath.Dir(target), map[string]string{"target": "#!/bin/sh\n" + HookMarker + "\n"})
				writeFiles(t, hooks, map[string]string{HookName: "->" + target})
			}
			res, err := InstallHook(hooks, script, tc.force)
			got := res.Path
			if tc.installOK != (err == nil) {
				t.Fatalf("InstallHook err = %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), "--force") {
				t.Errorf("error without hint: %v", err)
			}
			if tc.existing == "symlink" {
				if fi, _ := os.Lstat(path); fi.Mode()&os.ModeSymlink == 0 {
					t.Error("symlinked hook replaced")
				}
				if _, err := UninstallHook(hooks); err == nil {
					t.Error("uninstall removed a symlinked hook")
				}
				return
			}
			if body := readFile(t, path); body != tc.wantBody {
				t.Errorf("hook = %q, want %q", body, tc.wantBody)
			}
			if tc.installOK {
				fi, _ := os.Stat(got)
				if got != path || fi.Mode().Perm() != 0o755 {
					t.Errorf("path %s mode %v", got, fi.Mode())
				}
			}
			removed, err := UninstallHook(hooks)
			if tc.installOK != removed || tc.installOK != (err == nil) {
				t.Errorf("UninstallHook = %v, %v", removed, err)
			}
			_, statErr := os.Stat(path)
			if tc.installOK == (statErr == nil) {
				t.Errorf("after uninstall: %v", statErr)
			}
			if removed, err := UninstallHook(t.TempDir()); removed || err != nil {
				t.Errorf("uninstall with no hook: %v %v", removed, err)
			}
		})
	}
}

func TestHookTarget(t *testing.T) {
	requireTool(t, "git")
	repo, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, "init", "-q")
	sub := filepath.Join(repo, "app")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	hooks, app, err := HookTarget(t.Context(), sub, testEnviron())
	if err != nil || hooks != filepath.Join(repo, ".git", "hooks") || app != "app" {
		t.Errorf("HookTarget = %q, %q, %v", hooks, app, err)
	}
	if _, app, err := HookTarget(t.Context(), repo, testEnviron()); err != nil || app != "." {
		t.Errorf("HookTarget at the top = %q, %v; want \".\"", app, err)
	}
	gitRun(t, repo, "config", "core.hooksPath", ".githooks")
	if hooks, _, err := HookTarget(t.Context(), sub, testEnviron()); err != nil || hooks != filepath.Join(repo, ".githooks") {
		t.Errorf("HookTarget with core.hooksPath = %q, %v", hooks, err)
	}
	if _, _, err := HookTarget(t.Context(), t.TempDir(), testEnviron()); err == nil {
		t.Error("HookTarget outside a repository succeeded")
	}
}
