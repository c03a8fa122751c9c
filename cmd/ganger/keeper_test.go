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
	}
	for _, tt := range tests {
		if got := needsKeeper(tt.args); got != tt.want {
			t.Errorf("needsKeeper(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}
