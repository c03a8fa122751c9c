package app

import (
	"context"
	"os"
	"sync"
	"syscall"

	"github.com/gangerdev/ganger/runner"
)

// Signals is how the command's signal loop reaches a running formation.
// Cancelling the context given to Start (with an Interrupt as its cause)
// begins the graceful stop; these do the rest.
type Signals struct {
	Kill    <-chan struct{}       // closed: SIGKILL every group now (a second Ctrl-C)
	Forward <-chan syscall.Signal // passed on to every process group (SIGUSR1, SIGUSR2)
}

// besideFunc runs beside a formation, with a context that ends when the
// formation has stopped.
type besideFunc func(context.Context, *runner.Supervisor)

// supervise runs specs under a watchdog, reaping escapees, with sig's kill
// and forwarded signals. Each of beside runs in its own goroutine while the
// formation runs; supervise returns once they have returned. A run ended by
// an Interrupt exits with 128+n.
func supervise(ctx context.Context, specs []runner.Spec, opts runner.Options, sig Signals, beside ...besideFunc) (runner.Result, error) {
	wd, err := runner.StartWatchdog()
	if err != nil {
		return runner.Result{}, err
	}
	defer wd.Close()
	opts.Watchdog = wd
	opts.Reap = true
	if sig.Kill != nil {
		opts.Sink = killHint{Sink: opts.Sink, ctx: ctx}
	}

	sup := runner.New(opts)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		kill := sig.Kill
		for {
			select {
			case <-stop:
				return
			case <-kill:
				sup.Kill()
				kill = nil
			case s := <-sig.Forward:
				sup.Signal(s)
			}
		}
	})
	besideCtx, stopBeside := context.WithCancel(context.Background())
	for _, f := range beside {
		wg.Go(func() { f(besideCtx, sup) })
	}
	res, err := sup.Run(ctx, specs)
	stopBeside()
	close(stop)
	wg.Wait()
	if res.Interrupted {
		if code := InterruptCode(context.Cause(ctx)); code != 0 {
			res.Code = code
		}
	}
	return res, err
}

// resultError maps a run's end to ganger's exit code.
func resultError(res runner.Result) error {
	switch {
	case res.OutputClosed:
		return &ExitError{Code: 128 + int(syscall.SIGPIPE)}
	case res.Interrupted, res.Cause != "":
		if res.Code == 0 {
			return nil
		}
		return &ExitError{Code: res.Code}
	}
	return nil
}

// watchReader ends the run when out is a pipe whose reader exits, without
// waiting for a write to find out: "ganger start | head -1" must end even
// when every process has gone quiet.
func watchReader(out any) besideFunc {
	return func(ctx context.Context, sup *runner.Supervisor) {
		f, ok := out.(*os.File)
		if !ok {
			return
		}
		if err := runner.WaitReaderGone(ctx, f); err != nil && ctx.Err() == nil {
			sup.OutputClosed(ctx, err)
		}
	}
}

// killHint tells the user, after the line announcing a shutdown for Ctrl-C,
// that another one kills at once.
type killHint struct {
	runner.Sink
	ctx context.Context
}

func (k killHint) Event(e runner.Event) error {
	if err := k.Sink.Event(e); err != nil {
		return err
	}
	if e.Kind == runner.System && e.Interrupted && InterruptCode(context.Cause(k.ctx)) == 128+int(syscall.SIGINT) {
		return k.Sink.Event(runner.Event{Kind: runner.System, Time: e.Time, Msg: "press Ctrl-C again to kill at once"})
	}
	return nil
}
