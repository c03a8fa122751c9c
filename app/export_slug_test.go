package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/buildpack"
)

// TestSlugCommandMatchesProcessCommand runs a command from a slug both ways:
// as buildpack.ProcessCommand's argv with HOME set to the slug, the way a
// dyno does, and as the one line export writes, run by /bin/sh -c from the
// slug with some other HOME, as the engines do. Both must source the same
// profile and run the same command.
func TestSlugCommandMatchesProcessCommand(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found: slugs need it")
	}
	slug := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		path := filepath.Join(slug, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".profile.d/1-a.sh", "export A=from-profile-d\n")
	write(".profile.d/2-b.sh", "export B=\"$A and more\"\n")
	write(".profile", "export C='from .profile'\n")

	for _, command := range []string{
		`echo "$A|$B|$C|$HOME|$PWD|$0"`,
		`echo 'single quotes' "$PORT"; echo second`,
		`exec printf '%s\n' "$A"`,
	} {
		env := append(os.Environ(), "PORT=5000")
		want := runOutput(t, buildpack.ProcessCommand(command), slug, append(env, "HOME="+slug))
		got := runOutput(t, []string{"/bin/sh", "-c", slugCommand(command)}, slug, append(env, "HOME="+t.TempDir()))
		if got != want {
			t.Errorf("command %q:\nexported one line printed %q\nProcessCommand printed   %q\nline: %s", command, got, want, slugCommand(command))
		}
		if !strings.Contains(want, "from-profile-d") && strings.Contains(command, "$A") {
			t.Errorf("command %q: the profile was not sourced: %q", command, want)
		}
	}
}

func runOutput(t *testing.T, argv []string, dir string, env []string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v\n%s", argv, err, out)
	}
	return string(out)
}

func TestOneLineHasNoNewline(t *testing.T) {
	argv := buildpack.ProcessCommand("web")
	if line := slugCommand("web"); strings.ContainsAny(line, "\n\r") {
		t.Fatalf("slugCommand holds a line break: %q (script %q)", line, argv[2])
	}
}
