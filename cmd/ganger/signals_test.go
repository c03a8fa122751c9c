package main

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gangerdev/ganger/app"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestDoubleInterrupt: the same interrupt delivered twice at once (as
// timeout(1) and some IDEs do) stops gracefully; a second one killAfter
// later kills at once.
func TestDoubleInterrupt(t *testing.T) {
	sigs := make(chan os.Signal)
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	ctx, sig, stop := handleSignals(context.Background(), sigs, clock.now)
	defer stop()

	sigs <- syscall.SIGINT
	<-ctx.Done()
	var in app.Interrupt
	if !errors.As(context.Cause(ctx), &in) || in.Signal != syscall.SIGINT {
		t.Fatalf("cause = %v, want an Interrupt of SIGINT", context.Cause(ctx))
	}
	clock.advance(killAfter / 3)
	sigs <- syscall.SIGINT // the unbuffered send returns once the loop has it
	sigs <- syscall.SIGUSR1
	if s := <-sig.Forward; s != syscall.SIGUSR1 {
		t.Fatalf("forwarded %v, want SIGUSR1", s)
	}
	select { // the loop took the SIGINT before the SIGUSR1
	case <-sig.Kill:
		t.Fatal("a second SIGINT right after the first killed at once")
	default:
	}
	clock.advance(killAfter)
	sigs <- syscall.SIGTERM
	select {
	case <-sig.Kill:
	case <-time.After(time.Minute):
		t.Fatal("a second interrupt after killAfter did not kill")
	}
}
