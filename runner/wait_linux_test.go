//go:build linux

package runner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func init() {
	// supervise N: run a Supervisor of N "group" children in this fresh
	// process; once all N are up print "threads T" (this process's OS
	// threads) and "goroutines G", then stop them and exit 0.
	helpers["supervise"] = func(args []string) int {
		n := atoi(args[0])
		up := make(chan struct{}, n)
		specs := make([]Spec, n)
		for i := range specs {
			specs[i] = helper(fmt.Sprintf("w.%d", i+1), "group", "die", "none", "-")
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := New(Options{Timeout: testDeadline, Sink: readySink{up}, Reap: true}).Run(ctx, specs)
			done <- err
		}()
		for range n {
			<-up
		}
		fmt.Printf("threads %d\ngoroutines %d\n", threadCount(), runtime.NumGoroutine())
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
}

// readySink signals up for each "ready" line and discards the rest.
type readySink struct{ up chan<- struct{} }

func (s readySink) Lines(string) LineWriter { return s }
func (s readySink) Event(Event) error       { return nil }
func (s readySink) WriteLines(p []byte) error {
	for range bytes.Count(p, []byte("ready\n")) {
		s.up <- struct{}{}
	}
	return nil
}

// threadCount reads this process's number of OS threads.
func threadCount() int {
	b, _ := os.ReadFile("/proc/self/status")
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "Threads:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return -1
}

// Waiting for a child holds no OS thread: a supervisor of forty idle
// children runs on a handful of threads, not one blocked in wait4 per child
// (the pidfd is waited on in Go's poller). It runs in a fresh process, so
// that threads left idle by other tests cannot hide blocked waits.
func TestWaitHoldsNoThread(t *testing.T) {
	const n = 40
	spec := helper("sup", "supervise", strconv.Itoa(n))
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(testDeadline, func() { cmd.Process.Kill() })
	defer timer.Stop()
	threads, goroutines := -1, -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "threads "); ok {
			threads, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(sc.Text(), "goroutines "); ok {
			goroutines, _ = strconv.Atoi(v)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("supervise helper: %v", err)
	}
	if threads < 0 || goroutines < 0 {
		t.Fatal("the helper printed no thread or goroutine count")
	}
	// The runtime's own threads, the spawner's and a few for syscalls in
	// flight; blocked waits would add one per child.
	if threads >= n/2 {
		t.Errorf("%d threads for %d idle children; waiting for a child should not hold a thread", threads, n)
	}
	// One output reader per child, and one goroutine for all their exits
	// (exitWatch): a waiter per child would make it 2n.
	if goroutines >= n+n/2 {
		t.Errorf("%d goroutines for %d idle children; their exits should be awaited by one", goroutines, n)
	}
	t.Logf("%d threads and %d goroutines for %d children", threads, goroutines, n)
}
