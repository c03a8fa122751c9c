package app

import "github.com/gangerdev/ganger/runner"

// upWatch calls up once the formation is up: every process has started,
// those with a readiness check are ready, and oneshots have succeeded.
// Its Event is called from the supervisor goroutine only.
type upWatch struct {
	runner.Sink
	pending map[string]runner.Spec // not up yet
	up      func()
}

func newUpWatch(s runner.Sink, specs []runner.Spec, up func()) *upWatch {
	w := &upWatch{Sink: s, pending: map[string]runner.Spec{}, up: up}
	for _, sp := range specs {
		w.pending[sp.Name] = sp
	}
	return w
}

func (w *upWatch) Event(e runner.Event) error {
	err := w.Sink.Event(e)
	sp, ok := w.pending[e.Name]
	if w.up == nil || !ok {
		return err
	}
	switch {
	case e.Kind == runner.Started && sp.Ready.IsZero() && !sp.Oneshot:
	case e.Kind == runner.Ready:
	case e.Kind == runner.Exited && sp.Oneshot && e.Code == 0 && e.Signal == 0:
	default:
		return err
	}
	delete(w.pending, e.Name)
	if len(w.pending) == 0 {
		up := w.up
		w.up = nil
		up()
	}
	return err
}
