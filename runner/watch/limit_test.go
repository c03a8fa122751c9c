//go:build linux

package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The watch-limit test runs the test binary again as root of a new user
// namespace, where it may lower the inotify watch limit for itself alone
// (/proc/sys/user/max_inotify_watches counts per user namespace, and the
// parent's limit still applies on top). Nothing outside that child is
// touched, so other watchers on the machine keep their limit.
const (
	helperEnv   = "GANGER_WATCH_TEST_HELPER"
	helperRoot  = "GANGER_WATCH_TEST_ROOT"
	helperLimit = 12 // watches allowed in the child, the root included
	limitDirs   = 30 // directories below the root
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "limit" {
		if err := limitHelper(os.Getenv(helperRoot), os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "limit helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// limitHelper watches root under a limit of helperLimit watches and prints
// what happened, one "key: value" per line.
func limitHelper(root string, out *os.File) error {
	if err := os.WriteFile("/proc/sys/user/max_inotify_watches", []byte(fmt.Sprint(helperLimit)), 0); err != nil {
		return fmt.Errorf("lower the limit: %w", err)
	}
	var warns []error
	w, err := New(root, Options{Debounce: 20 * time.Millisecond, Warn: func(err error) { warns = append(warns, err) }})
	if err != nil {
		return err
	}
	// Read by New's goroutine only: Run has not started.
	for _, err := range warns {
		fmt.Fprintf(out, "warning: %v\n", err)
		fmt.Fprintf(out, "is-limit: %v\n", errors.Is(err, ErrWatchLimit) && errors.Is(err, syscall.ENOSPC))
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	dirs, err := w.watchedDirs(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "watched: %d\n", len(dirs))
	// What could be watched still is.
	if err := os.WriteFile(filepath.Join(root, "after"), nil, 0o644); err != nil {
		return err
	}
	select {
	case b := <-w.Changes():
		fmt.Fprintf(out, "batch: %s\n", strings.Join(b.Paths, " "))
	case <-ctx.Done():
		return errors.New("no batch")
	}
	cancel()
	return <-done
}

func TestWatchLimit(t *testing.T) {
	root := t.TempDir()
	for i := range limitDirs {
		mkdir(t, root, fmt.Sprintf("d%02d", i))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=limit", helperRoot+"="+root)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a process in a new user namespace: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		if strings.Contains(stderr.String(), "lower the limit") {
			t.Skipf("cannot lower the watch limit in a user namespace: %s", stderr.String())
		}
		t.Fatalf("helper: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	got := stdout.String()
	t.Logf("helper output:\n%s", got)
	notWatched := limitDirs + 1 - helperLimit
	for _, want := range []string{
		"is-limit: true\n",
		fmt.Sprintf("%d directories are not watched", notWatched),
		"fs.inotify.max_user_watches",
		"sudo sysctl fs.inotify.max_user_watches=",
		fmt.Sprintf("watched: %d\n", helperLimit),
		"batch: after\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("helper output lacks %q", want)
		}
	}
	if n := strings.Count(got, "warning: "); n != 1 {
		t.Errorf("%d warnings, want exactly one for the whole walk", n)
	}
}
