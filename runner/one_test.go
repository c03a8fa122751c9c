//go:build linux

package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// notifyingBuffer is an io.Writer whose content can be awaited.
type notifyingBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newNotifyingBuffer() *notifyingBuffer {
	return &notifyingBuffer{changed: make(chan struct{}, 1)}
}

func (b *notifyingBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf.Write(p)
	b.mu.Unlock()
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (b *notifyingBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLine waits until line has been written.
func (b *notifyingBuffer) waitLine(t *testing.T, line string) {
	t.Helper()
	timer := time.NewTimer(testDeadline)
	defer timer.Stop()
	for !strings.Contains("\n"+b.String(), "\n"+line+"\n") {
		select {
		case <-b.changed:
		case <-timer.C:
			t.Fatalf("timed out waiting for %q; got %q", line, b.String())
		}
	}
}

func oneOff(s Spec, out *notifyingBuffer) OneOff {
	return OneOff{Argv: s.Argv, Env: s.Env, Stdout: out, Stderr: out}
}

func TestRunOneExitCode(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		code int
		out  string
	}{
		{"exit 0", helper("", "exit", "0"), 0, "bye\n"},
		{"exit 7", helper("", "exit", "7"), 7, "bye\n"},
		{"killed", helper("", "killself", "9"), 137, "dying\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := newNotifyingBuffer()
			code, err := RunOne(context.Background(), oneOff(tt.spec, out), nil)
			if err != nil || code != tt.code || out.String() != tt.out {
				t.Errorf("RunOne = %d, %v, output %q; want %d, nil, %q", code, err, out.String(), tt.code, tt.out)
			}
		})
	}
}

func TestRunOneStartError(t *testing.T) {
	code, err := RunOne(context.Background(), OneOff{Argv: []string{filepath.Join(t.TempDir(), "missing")}}, nil)
	if code != 127 || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RunOne(missing) = %d, %v; want 127 and a not-exist error", code, err)
	}
}

// Forwarded signals reach the command; the end of ctx sends it SIGTERM.
func TestRunOneSignals(t *testing.T) {
	t.Parallel()
	out := newNotifyingBuffer()
	forward := make(chan syscall.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := RunOne(ctx, oneOff(helper("", "group", "usr1", "none", "-"), out), forward)
		done <- result{code, err}
	}()
	out.waitLine(t, "ready")
	select {
	case forward <- syscall.SIGUSR1:
	case <-time.After(testDeadline):
		t.Fatal("RunOne did not take the forwarded signal")
	}
	out.waitLine(t, "usr1 leader")
	cancel()
	select {
	case r := <-done:
		if r.err != nil || r.code != 128+int(syscall.SIGTERM) {
			t.Errorf("RunOne = %d, %v; want 143 (SIGTERM)", r.code, r.err)
		}
	case <-time.After(testDeadline):
		t.Fatal("RunOne did not return after ctx ended")
	}
}
