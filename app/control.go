package app

import (
	"context"

	"github.com/gangerdev/ganger/runner"
	"github.com/gangerdev/ganger/runner/control"
)

// controlHandler answers ganger ps, restart and stop for a running start.
type controlHandler struct {
	sup    *runner.Supervisor
	router *routed // nil without --router
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
