package runner

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// prebootWeb is a web process that alternates between two free ports.
func prebootWeb(t *testing.T, dir string, timeout time.Duration) Spec {
	t.Helper()
	a, b := freePort(t), freePort(t)
	for b == a {
		b = freePort(t)
	}
	web := helper("web.1", "web", dir).withPort(a)
	web.Ready = Readiness{Port: true}
	web.Preboot = &Preboot{Ports: [2]int{a, b}, Timeout: timeout}
	return web
}

// readyOf returns the Ready events of name, in order.
func (r *sinkRec) readyOf(name string) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readyOfLocked(name)
}

func (r *sinkRec) readyOfLocked(name string) []Event {
	var out []Event
	for _, e := range r.log {
		if e.event != nil && e.event.Kind == Ready && e.event.Name == name {
			out = append(out, *e.event)
		}
	}
	return out
}

func TestPrebootSwitchesOnceTheSuccessorIsReady(t *testing.T) {
	t.Parallel()
	web := prebootWeb(t, t.TempDir(), 0)
	h := startRun(t, Options{Timeout: 5 * time.Second, KeepGoing: true}, []Spec{web})
	h.rec.waitFor(t, "web.1 ready", func() bool { return len(h.rec.readyOfLocked("web.1")) == 1 })
	first := h.rec.readyOf("web.1")[0]
	if first.Port != web.Preboot.Ports[0] || first.PID == 0 {
		t.Fatalf("first Ready = %+v, want port %d and a pid", first, web.Preboot.Ports[0])
	}

	for round, want := range []int{web.Preboot.Ports[1], web.Preboot.Ports[0], web.Preboot.Ports[1]} {
		if err := h.sup.Restart(context.Background(), []string{"web"}, "test"); err != nil {
			t.Fatal(err)
		}
		readys := h.rec.readyOf("web.1")
		got := readys[len(readys)-1]
		if len(readys) != round+2 || got.Port != want {
			t.Fatalf("round %d: Ready events %+v, want the last on port %d\n%s", round, readys, want, h.rec.dump())
		}
		old := readys[len(readys)-2].PID
		// The successor answered before the old one was asked to stop.
		iReady := h.rec.index(func(e recEntry) bool { return e.event != nil && e.event.Kind == Ready && e.event.PID == got.PID })
		iExit := h.rec.index(func(e recEntry) bool { return e.event != nil && e.event.Kind == Exited && e.event.PID == old })
		if iExit >= 0 && iExit < iReady {
			t.Fatalf("round %d: the old one exited before the new one was ready\n%s", round, h.rec.dump())
		}
		h.rec.waitFor(t, "the old one exited", func() bool {
			return h.rec.indexLocked(func(e recEntry) bool { return e.event != nil && e.event.Kind == Exited && e.event.PID == old }) >= 0
		})
		st := statusOf(t, h.sup, "web.1")
		if st.PID != got.PID || st.Port != want || st.State != StateRunning || st.Restarts != round+1 {
			t.Fatalf("round %d: status %+v, want pid %d on port %d with %d restarts", round, st, got.PID, want, round+1)
		}
		h.rec.waitLine(t, "web.1", "listening "+strconv.Itoa(want))
	}
	h.cancel(nil)
	if _, err := h.wait(t); err != nil {
		t.Fatal(err)
	}
	h.checkNothingLeft(t)
}

func TestPrebootFailedBootKeepsThePreviousOne(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	web := prebootWeb(t, dir, 500*time.Millisecond)
	h := startRun(t, Options{Timeout: 5 * time.Second, KeepGoing: true}, []Spec{web})
	h.rec.waitFor(t, "web.1 ready", func() bool { return len(h.rec.readyOfLocked("web.1")) == 1 })
	pid := h.rec.readyOf("web.1")[0].PID

	for _, tc := range []struct{ flag, msg string }{
		{"fail", "web.1: the new version exited with code 3 during boot; still serving the previous one"},
		{"hang", "web.1: the new version was not ready within 500ms; still serving the previous one"},
	} {
		if err := os.WriteFile(filepath.Join(dir, tc.flag), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := h.sup.Restart(context.Background(), []string{"web.1"}, ""); err != nil {
			t.Fatal(err)
		}
		h.rec.waitSystem(t, tc.msg)
		if st := statusOf(t, h.sup, "web.1"); st.PID != pid || st.State != StateRunning || st.Port != web.Preboot.Ports[0] {
			t.Fatalf("%s: status %+v, want the previous pid %d still running", tc.flag, st, pid)
		}
		if err := os.Remove(filepath.Join(dir, tc.flag)); err != nil {
			t.Fatal(err)
		}
	}
	// The next change tries again, once the failed one is gone.
	if err := h.sup.Restart(context.Background(), []string{"web.1"}, ""); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, h.sup, "web.1"); st.PID == pid || st.Port != web.Preboot.Ports[1] {
		t.Fatalf("status %+v, want a new pid on port %d", st, web.Preboot.Ports[1])
	}
	h.cancel(nil)
	if _, err := h.wait(t); err != nil {
		t.Fatal(err)
	}
	h.checkNothingLeft(t)
}

func TestPrebootUpdateKeepsThePortOfAnUnchangedSpec(t *testing.T) {
	t.Parallel()
	web := prebootWeb(t, t.TempDir(), 0)
	h := startRun(t, Options{Timeout: 5 * time.Second, KeepGoing: true}, []Spec{web})
	h.rec.waitFor(t, "web.1 ready", func() bool { return len(h.rec.readyOfLocked("web.1")) == 1 })
	if err := h.sup.Restart(context.Background(), nil, ""); err != nil {
		t.Fatal(err)
	}
	// web.1 now runs on the other port: the same spec, given again on its
	// first port, is not a change.
	if err := h.sup.Update(context.Background(), []Spec{web}, "same"); err != nil {
		t.Fatal(err)
	}
	changed := web
	changed.Env = append(append([]string(nil), web.Env...), "NEW=1")
	if err := h.sup.Update(context.Background(), []Spec{changed}, "env changed"); err != nil {
		t.Fatal(err)
	}
	h.rec.waitFor(t, "the third boot", func() bool { return len(h.rec.readyOfLocked("web.1")) == 3 })
	for _, m := range h.rec.systemMsgs() {
		if strings.Contains(m, ": same") {
			t.Errorf("an unchanged spec restarted web.1: %q", m)
		}
	}
	if got := h.rec.readyOf("web.1")[2].Port; got != web.Preboot.Ports[0] {
		t.Errorf("third boot on port %d, want %d", got, web.Preboot.Ports[0])
	}
	h.cancel(nil)
	if _, err := h.wait(t); err != nil {
		t.Fatal(err)
	}
	h.checkNothingLeft(t)
}
