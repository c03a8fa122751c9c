package app

import (
	"context"
	"errors"

	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
	"github.com/gangerdev/ganger/runner/journal"
)

// errQuit is the cause of a stop asked by "ganger quit"; the run reports
// "asked by ganger quit, starting shutdown" and the start exits 0.
var errQuit = errors.New("asked by ganger quit")

// controlHandler answers ganger ps, restart, stop, logs, attach and quit
// for a running start.
type controlHandler struct {
	sup     *runner.Supervisor
	quit    context.CancelCauseFunc // ends the start's run, as Ctrl-C does
	router  *routed                 // nil without --router
	journal *journal.Journal
}

func (h controlHandler) Status(ctx context.Context) ([]control.Process, error) {
	sts, err := h.sup.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]control.Process, 0, len(sts))
	for _, s := range sts {
		cp := control.Process{Name: s.Name, Type: s.Type, State: string(s.State), PID: s.PID, Port: s.Port, Started: s.Started, Restarts: s.Restarts}
		if s.Exited {
			if s.Signal != 0 {
				cp.Signal = runner.SignalName(s.Signal)
			} else {
				code := s.Code
				cp.ExitCode = &code
			}
		}
		out = append(out, cp)
	}
	if h.router != nil {
		out = append([]control.Process{h.router.status()}, out...)
	}
	return out, nil
}

func (h controlHandler) Restart(ctx context.Context, names []string) error {
	return h.sup.Restart(ctx, names, "asked by ganger restart")
}

func (h controlHandler) Stop(ctx context.Context, names []string) error {
	return h.sup.Stop(ctx, names)
}

// Logs sends the journal's records: the last req.Lines, then, with
// req.Follow, the new ones until ctx ends or the formation has stopped.
func (h controlHandler) Logs(ctx context.Context, req control.LogsRequest, send func(control.Record) error) error {
	if h.journal == nil {
		return errors.New("this start keeps no log")
	}
	conv := func(r journal.Record) error {
		return send(control.Record{Time: r.Time, Name: r.Name, Stream: r.Stream, Text: r.Text})
	}
	if !req.Follow {
		for _, r := range h.journal.Tail(req.Names, req.Lines) {
			if err := conv(r); err != nil {
				return err
			}
		}
		return nil
	}
	return h.journal.Follow(ctx, req.Names, req.Lines, conv)
}

func (h controlHandler) Attach(ctx context.Context, name string, size control.Size) (control.Attached, error) {
	a, err := h.sup.Attach(ctx, name)
	if err != nil {
		return nil, err
	}
	if size.Cols > 0 && size.Rows > 0 {
		if err := a.Resize(size.Cols, size.Rows); err != nil {
			a.Close()
			return nil, err
		}
	}
	return attachment{a}, nil
}

func (h controlHandler) Quit(ctx context.Context) error {
	if h.quit == nil {
		return errors.New("this start cannot be stopped by ganger quit; stop it with Ctrl-C")
	}
	h.quit(errQuit)
	return nil
}

// attachment is a runner.Attachment as control.Attached.
type attachment struct{ *runner.Attachment }

func (a attachment) Resize(sz control.Size) error { return a.Attachment.Resize(sz.Cols, sz.Rows) }
