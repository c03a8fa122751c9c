package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Only the commands that start processes get a keeper, and check only with
// --boot; the decision reads the command line's words alone.
func TestNeedsKeeper(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"ganger"}, false},
		{[]string{"ganger", "start"}, true},
		{[]string{"ganger", "start", "web", "-p", "6000"}, true},
		{[]string{"ganger", "run", "--", "check", "--boot"}, true},
		{[]string{"ganger", "build", "-b", "./bp"}, true},
		{[]string{"ganger", "test"}, true},
		{[]string{"ganger", "check"}, false},
		{[]string{"ganger", "check", "--json"}, false},
		{[]string{"ganger", "check", "--boot"}, true},
		{[]string{"ganger", "check", "-boot"}, true},
		{[]string{"ganger", "check", "--boot=true"}, true},
		{[]string{"ganger", "check", "-f", "Procfile.dev", "--boot", "--slug"}, true},
		{[]string{"ganger", "check", "--", "--boot"}, false},
		{[]string{"ganger", "check", "boot"}, false},
		{[]string{"ganger", "env", "web.1"}, false},
		{[]string{"ganger", "ps"}, false},
		{[]string{"ganger", "export", "systemd", "out"}, false},
		{[]string{"ganger", "help", "start"}, false},
		{[]string{"ganger", "--version"}, false},
		// The caller of a detached start has none (it would kill the
		// start as it returns)...
		{[]string{"ganger", "start", "-D"}, false},
		{[]string{"ganger", "start", "--daemon", "web"}, false},
		{[]string{"ganger", "start", "-D=false"}, true},
		{[]string{"ganger", "start", "-d", "/nonexistent", "-D", "-p", "6000"}, false},
	}
	for _, tt := range tests {
		if got := needsKeeper(tt.args); got != tt.want {
			t.Errorf("needsKeeper(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
	// ... the detached start it starts has one.
	t.Setenv(daemonEnv, "pipes")
	if !needsKeeper([]string{"ganger", "start", "-D"}) {
		t.Errorf("needsKeeper(start -D) with %s set = false, want true", daemonEnv)
	}
}

// A start detaches by the flag, GANGER_DAEMON, .foreman or ganger.yml, in
// that order, and needsKeeper reads them the same way.
func TestDetachingFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Procfile", "web: true\n")
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	check := func(what string, args []string, want bool) {
		t.Helper()
		if got := detaching(args, getenv); got != want {
			t.Errorf("%s: detaching(%q) = %v, want %v", what, args, got, want)
		}
	}
	check("nothing", []string{"-d", dir}, false)
	write("ganger.yml", "daemon: true\n")
	check("ganger.yml", []string{"-d", dir}, true)
	check("ganger.yml, found from the Procfile", []string{"--procfile=" + filepath.Join(dir, "Procfile")}, true)
	write(".foreman", "daemon: false\n")
	check(".foreman over ganger.yml", []string{"-d", dir}, false)
	write(".foreman", "port: 6000\ndaemon: true\n")
	check(".foreman", []string{"--root", dir}, true)
	env["GANGER_DAEMON"] = "false"
	check("GANGER_DAEMON over .foreman", []string{"-d", dir}, false)
	check("the flag over GANGER_DAEMON", []string{"-d", dir, "-D"}, true)
	check("--daemon=false", []string{"-d", dir, "--daemon=false"}, false)
	check("after --", []string{"-d", dir, "--", "-D"}, false)
}
