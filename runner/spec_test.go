package runner

import (
	"errors"
	"os"
	"slices"
	"syscall"
	"testing"
)

func TestShellArgv(t *testing.T) {
	tests := []struct {
		command string
		simple  bool
	}{
		// One program with arguments and redirections: exec'd.
		{"web", true},
		{"bundle exec rails server -p $PORT", true},
		{"./bin/worker --queue=default", true},
		{"  node server.js  ", true},
		{"web > log.txt 2> err.txt", true},
		{`echo "a b" 'c d'`, true},
		{"env FOO=1 web", true},
		{"python -m http.server $PORT", true},
		// Anything compound keeps its shell.
		{"", false},
		{"   ", false},
		{"a; b", false},
		{"a && b", false},
		{"a || b", false},
		{"a | b", false},
		{"a &", false},
		{"(a)", false},
		{"{ a; }", false},
		{"echo `date`", false},
		{"echo $(date)", false},
		{"a \\\n b", false},
		{"a\nb", false},
		{"a\rb", false},
		{"FOO=1 web", false},
		{"$APP_CMD --flag", false},
		{"<input web", false},
		{`"my prog" arg`, false},
		{`echo "unbalanced`, false},
		{`echo it's`, false},
		{"python -c 'print(1)'", false},
		{"if true; then web; fi", false},
		{"while true", false},
		{"exec web", false}, // already exec'd: never "exec exec"
		{"cd app", false},
		{"export A=1", false},
		{"source env.sh", false},
		{". env.sh", false},
		{"trap '' TERM", false},
		{"time web", false},
		{"! web", false},
		{"true", false},
		{":", false},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			if got := IsSimpleCommand(tt.command); got != tt.simple {
				t.Errorf("IsSimpleCommand(%q) = %v, want %v", tt.command, got, tt.simple)
			}
			want := []string{"/bin/sh", "-c", tt.command}
			if tt.simple {
				want[2] = "exec " + tt.command
			}
			if got := ShellArgv(tt.command); !slices.Equal(got, want) {
				t.Errorf("ShellArgv(%q) = %q, want %q", tt.command, got, want)
			}
		})
	}
}

func TestSignalNames(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		name string
	}{
		{syscall.SIGTERM, "SIGTERM"},
		{syscall.SIGINT, "SIGINT"},
		{syscall.SIGKILL, "SIGKILL"},
		{syscall.SIGUSR2, "SIGUSR2"},
		{syscall.SIGSEGV, "SIGSEGV"},
		{syscall.SIGBUS, "SIGBUS"},
		{syscall.Signal(60), "signal 60"},
	} {
		if got := SignalName(tt.sig); got != tt.name {
			t.Errorf("SignalName(%d) = %q, want %q", tt.sig, got, tt.name)
		}
	}
	for _, tt := range []struct {
		in  string
		sig syscall.Signal
	}{
		{"TERM", syscall.SIGTERM},
		{"SIGTERM", syscall.SIGTERM},
		{"sigint", syscall.SIGINT},
		{" usr1 ", syscall.SIGUSR1},
		{"Kill", syscall.SIGKILL},
		{"15", syscall.SIGTERM},
		{"9", syscall.SIGKILL},
	} {
		if got, err := ParseSignal(tt.in); err != nil || got != tt.sig {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", tt.in, got, err, tt.sig)
		}
	}
	for _, in := range []string{"", "SIG", "bogus", "SIGBOGUS", "0", "11"} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) succeeded, want an error", in)
		}
	}
}

func TestDescribeExit(t *testing.T) {
	for _, tt := range []struct {
		code int
		sig  syscall.Signal
		want string
	}{
		{0, 0, "exited with code 0"},
		{3, 0, "exited with code 3"},
		{143, syscall.SIGTERM, "terminated by SIGTERM"},
	} {
		if got := describeExit(tt.code, tt.sig); got != tt.want {
			t.Errorf("describeExit(%d, %v) = %q, want %q", tt.code, tt.sig, got, tt.want)
		}
	}
	if got := exitCodeForStartError(os.ErrNotExist); got != 127 {
		t.Errorf("exit code for a missing program = %d, want 127", got)
	}
	if got := exitCodeForStartError(os.ErrPermission); got != 126 {
		t.Errorf("exit code for a program that cannot run = %d, want 126", got)
	}
}

// The guards against signalling every process of the user (-1) or our own
// group (0). Signal 0 only checks, so a broken guard harms nothing.
func TestSignalGroupRefusesLowPgid(t *testing.T) {
	for _, pgid := range []int{-1, 0, 1} {
		if err := signalGroup(pgid, 0); err == nil || errors.Is(err, syscall.ESRCH) {
			t.Errorf("signalGroup(%d) = %v, want a refusal", pgid, err)
		}
		if groupAlive(pgid) {
			t.Errorf("groupAlive(%d) = true, want false", pgid)
		}
	}
}
