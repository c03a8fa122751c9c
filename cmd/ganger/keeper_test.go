package main

import "testing"

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
