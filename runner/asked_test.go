//go:build linux

package runner

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExitAskedAndGaveUp checks the two facts events carry for alerts: an
// Exited event says whether ganger had asked for the exit (stop, restart,
// update, shutdown), and the "giving up" message names its process.
func TestExitAskedAndGaveUp(t *testing.T) {
	t.Parallel()
	count := filepath.Join(t.TempDir(), "runs")
	crash := helper("crash.1", "count", count, "3")
	crash.Restart = RestartOnFailure
	specs := []Spec{
		helper("web.1", "group", "die", "none", "-"),
		helper("worker.1", "group", "die", "none", "-"),
		helper("clock.1", "group", "die", "none", "-"),
		helper("gone.1", "group", "die", "none", "-"),
		crash,
	}
	opts := Options{Timeout: time.Minute, KeepGoing: true, Backoff: Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Limit: 2}}
	r := startRun(t, opts, specs)
	for _, n := range []string{"web.1", "worker.1", "clock.1", "gone.1"} {
		r.rec.waitLine(t, n, "ready")
	}
	r.rec.waitSystem(t, "crash.1 is down; the others keep running")
	if err := r.sup.Stop(opCtx(t), []string{"worker.1"}); err != nil {
		t.Fatal(err)
	}
	if err := r.sup.Restart(opCtx(t), []string{"clock.1"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.sup.Update(opCtx(t), specs[:3], "gone.1 removed"); err != nil {
		t.Fatal(err)
	}
	r.rec.waitEvent(t, Exited, "gone.1")
	r.interrupt(t)

	exits := map[string]int{}
	for _, e := range r.rec.events(Exited) {
		exits[e.Name]++
		if want := e.Name != "crash.1"; e.Asked != want {
			t.Errorf("%s exited with code %d signal %d: Asked = %v, want %v", e.Name, e.Code, e.Signal, e.Asked, want)
		}
	}
	// crash.1 twice on its own; clock.1 for the restart and the shutdown.
	want := map[string]int{"crash.1": 2, "web.1": 1, "worker.1": 1, "clock.1": 2, "gone.1": 1}
	for n, c := range want {
		if exits[n] != c {
			t.Errorf("%s exited %d times, want %d; got:\n%s", n, exits[n], c, r.rec.dump())
		}
	}
	var gaveUp []string
	for _, e := range r.rec.events(System) {
		if e.GaveUp != "" {
			gaveUp = append(gaveUp, e.GaveUp)
			if !strings.HasPrefix(e.Msg, "giving up on "+e.GaveUp+": ") {
				t.Errorf("GaveUp %q on the message %q", e.GaveUp, e.Msg)
			}
		} else if strings.HasPrefix(e.Msg, "giving up") {
			t.Errorf("%q has no GaveUp", e.Msg)
		}
	}
	if len(gaveUp) != 1 || gaveUp[0] != "crash.1" {
		t.Errorf("GaveUp on %q, want once on crash.1", gaveUp)
	}
}
