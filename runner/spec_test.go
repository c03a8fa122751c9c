package runner

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

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
