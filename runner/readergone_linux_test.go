package runner

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func TestWaitReaderGone(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- WaitReaderGone(context.Background(), w) }()
	r.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrReaderGone) {
			t.Fatalf("WaitReaderGone = %v, want ErrReaderGone", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WaitReaderGone did not notice the reader close")
	}
}

func TestWaitReaderGoneEndsWithContext(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- WaitReaderGone(ctx, w) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("WaitReaderGone after cancel = %v, want nil", err)
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WaitReaderGone(context.Background(), f); err != nil {
		t.Fatalf("WaitReaderGone on a file = %v, want nil at once", err)
	}
}
