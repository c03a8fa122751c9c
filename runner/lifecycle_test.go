//go:build linux

package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// opCtx bounds a call of a Supervisor method in a test.
func opCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// started returns the pids name was started with, in order.
func (r *sinkRec) started(name string) []int {
	var out []int
	for _, e := range r.events(Started) {
		if e.Name == name {
			out = append(out, e.PID)
		}
	}
	return out
}

// waitStarts waits until name has been started n times.
func (r *sinkRec) waitStarts(t *testing.T, name string, n int) {
	t.Helper()
	r.waitFor(t, name+" started "+strconv.Itoa(n)+" times", func() bool {
		c := 0
		for _, e := range r.log {
			if e.event != nil && e.event.Kind == Started && e.event.Name == name {
				c++
			}
		}
		return c >= n
	})
}

// waitEvent waits for an event of kind for name.
func (r *sinkRec) waitEvent(t *testing.T, kind EventKind, name string) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("event %d of %s", kind, name), func() bool {
		return r.indexLocked(func(e recEntry) bool { return e.event != nil && e.event.Kind == kind && e.event.Name == name }) >= 0
	})
}

// at returns the index of the first entry matching, -1 if none.
func (r *sinkRec) at(kind EventKind, name, msg string) int {
	return r.index(func(e recEntry) bool {
		return e.event != nil && e.event.Kind == kind && e.event.Name == name && (msg == "" || e.event.Msg == msg)
	})
}

func statusOf(t *testing.T, sup *Supervisor, name string) Status {
	t.Helper()
	sts, err := sup.Status(opCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no status for %s in %+v", name, sts)
	return Status{}
}

// interrupt ends a run through ctx and checks it ended cleanly.
func (r *runHandle) interrupt(t *testing.T) Result {
	t.Helper()
	r.cancel(nil)
	res, err := r.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	r.checkNothingLeft(t)
	return res
}

func TestRestartWaitsForTheOldGroup(t *testing.T) {
	t.Parallel()
	pidfile := filepath.Join(t.TempDir(), "grandchild.pid")
	specs := []Spec{
		helper("web.1", "group", "ignore", "ignore", pidfile),
		helper("worker.1", "group", "die", "none", "-"),
	}
	r := startRun(t, Options{Timeout: 200 * time.Millisecond}, specs)
	r.rec.waitLine(t, "web.1", "ready")
	r.rec.waitLine(t, "worker.1", "ready")
	grandchild := r.readPid(t, pidfile)
	if err := r.sup.Restart(opCtx(t), []string{"web"}, "app.go changed"); err != nil {
		t.Fatal(err)
	}
	// Restart returns once the new one runs; the old group was emptied
	// (SIGKILL, as it ignores SIGTERM) before that.
	if pidAlive(grandchild) {
		t.Errorf("the old web.1's grandchild %d is alive after the restart", grandchild)
	}
	pids := r.rec.started("web.1")
	if len(pids) != 2 || pids[0] == pids[1] {
		t.Fatalf("web.1 started with pids %v, want two different", pids)
	}
	iRestart := r.rec.at(System, "", "restarting web.1: app.go changed")
	iKill := r.rec.at(System, "", "sending SIGKILL to web.1")
	iExit := r.rec.at(Exited, "web.1", "")
	iStart := r.rec.index(func(e recEntry) bool { return e.event != nil && e.event.Kind == Started && e.event.PID == pids[1] })
	if iRestart < 0 || iKill < iRestart || iExit < iRestart || iStart < iKill || iStart < iExit {
		t.Errorf("want restarting, SIGKILL and exit before the new start; got:\n%s", r.rec.dump())
	}
	if got := r.rec.started("worker.1"); len(got) != 1 {
		t.Errorf("worker.1 started %d times, want once", len(got))
	}
	r.rec.waitLine(t, "web.1", "ready")
	if st := statusOf(t, r.sup, "web.1"); st.State != StateRunning || st.Restarts != 1 || st.PID != pids[1] {
		t.Errorf("web.1 status %+v, want running, 1 restart, pid %d", st, pids[1])
	}
	grandchild = r.readPid(t, pidfile)
	res := r.interrupt(t)
	if !res.Interrupted || res.Cause != "" {
		t.Errorf("Result = %+v, want interrupted", res)
	}
	if pidAlive(grandchild) {
		t.Errorf("the new web.1's grandchild %d is left", grandchild)
	}
}

func TestStopLeavesTheRestRunning(t *testing.T) {
	t.Parallel()
	specs := []Spec{
		helper("web.1", "group", "die", "none", "-"),
		helper("worker.1", "group", "die", "none", "-"),
		helper("worker.2", "group", "die", "none", "-"),
	}
	r := startRun(t, Options{Timeout: time.Minute}, specs)
	for _, n := range []string{"web.1", "worker.1", "worker.2"} {
		r.rec.waitLine(t, n, "ready")
	}
	if err := r.sup.Stop(opCtx(t), []string{"worker"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"worker.1", "worker.2"} {
		if st := statusOf(t, r.sup, n); st.State != StateStopped || st.PID != 0 || !st.Exited || st.Signal != syscall.SIGTERM {
			t.Errorf("%s status %+v, want stopped by SIGTERM", n, st)
		}
	}
	if st := statusOf(t, r.sup, "web.1"); st.State != StateRunning {
		t.Errorf("web.1 status %+v, want running", st)
	}
	if msgs := r.rec.systemMsgs(); !slices.Equal(msgs, []string{"stopping worker.1", "stopping worker.2"}) {
		t.Errorf("system messages %q, want only the two stops", msgs)
	}
	// Restart starts a stopped process.
	if err := r.sup.Restart(opCtx(t), []string{"worker.2"}, ""); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, r.sup, "worker.2"); st.State != StateRunning || st.Restarts != 1 {
		t.Errorf("worker.2 status %+v, want running after 1 restart", st)
	}
	err := r.sup.Stop(opCtx(t), []string{"wrker"})
	if err == nil || !strings.Contains(err.Error(), `unknown process "wrker"; known: web, web.1, worker, worker.1, worker.2`) {
		t.Errorf("Stop(wrker) = %v, want the unknown process error", err)
	}
	r.interrupt(t)
}

func TestBackoffAndGiveUp(t *testing.T) {
	t.Parallel()
	count := filepath.Join(t.TempDir(), "runs")
	crash := helper("crash.1", "count", count, "3")
	crash.Restart = RestartOnFailure
	specs := []Spec{helper("web.1", "group", "die", "none", "-"), crash}
	r := startRun(t, Options{Timeout: time.Minute, Backoff: Backoff{Initial: 10 * time.Millisecond, Max: 15 * time.Millisecond, Limit: 3}}, specs)
	res, err := r.wait(t)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Cause: "crash.1", Code: 3}); res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	want := []string{
		"restarting crash.1 in 10ms (exit 1 of 3 within 1m)",
		"restarting crash.1 in 15ms (exit 2 of 3 within 1m)",
		"giving up on crash.1: it exited 3 times within 1m",
		"crash.1 exited with code 3, stopping all processes",
		"sending SIGTERM to all processes",
	}
	if msgs := r.rec.systemMsgs(); !slices.Equal(msgs, want) {
		t.Errorf("system messages:\n%q\nwant\n%q", msgs, want)
	}
	for i := 1; i <= 3; i++ {
		r.rec.waitLine(t, "crash.1", "run "+strconv.Itoa(i))
	}
	r.checkNothingLeft(t)
}

func TestRestartAlwaysAndOnFailureSuccess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	always := helper("always.1", "count", filepath.Join(dir, "always"), "0")
	always.Restart = RestartAlways
	done := helper("done.1", "exit", "0")
	done.Restart = RestartOnFailure
	specs := []Spec{helper("web.1", "group", "die", "none", "-"), always, done}
	r := startRun(t, Options{Timeout: time.Minute, Backoff: Backoff{Initial: time.Millisecond, Limit: 100}}, specs)
	r.rec.waitLine(t, "always.1", "run 3") // exit 0 is restarted too
	r.rec.waitLine(t, "web.1", "ready")
	// on-failure leaves a process that exited 0 down, and the rest running.
	r.rec.waitEvent(t, Exited, "done.1")
	if got := r.rec.started("done.1"); len(got) != 1 {
		t.Errorf("done.1 started %d times, want once", len(got))
	}
	if st := statusOf(t, r.sup, "web.1"); st.State != StateRunning {
		t.Errorf("web.1 %+v, want running", st)
	}
	if res := r.interrupt(t); !res.Interrupted {
		t.Errorf("Result = %+v, want interrupted", res)
	}
}

func TestOneshotAndAfter(t *testing.T) {
	t.Parallel()
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		migrate := helper("migrate.1", "exit", "0")
		migrate.Oneshot = true
		web := helper("web.1", "group", "die", "none", "-")
		web.After = []string{"migrate"}
		r := startRun(t, Options{Timeout: time.Minute}, []Spec{web, migrate})
		r.rec.waitLine(t, "web.1", "ready")
		iWait := r.rec.at(System, "", "web.1 waits for migrate")
		iExit := r.rec.at(Exited, "migrate.1", "")
		iStart := r.rec.at(Started, "web.1", "")
		if iWait < 0 || iExit < 0 || iStart < iExit {
			t.Errorf("want web.1 to wait for migrate.1's exit; got:\n%s", r.rec.dump())
		}
		if st := statusOf(t, r.sup, "migrate.1"); st.State != StateExited || st.Code != 0 {
			t.Errorf("migrate.1 %+v, want exited 0", st)
		}
		r.interrupt(t)
	})
	t.Run("failure", func(t *testing.T) {
		t.Parallel()
		migrate := helper("migrate.1", "exit", "2")
		migrate.Oneshot = true
		web := helper("web.1", "group", "die", "none", "-")
		web.After = []string{"migrate"}
		r := startRun(t, Options{Timeout: time.Minute}, []Spec{migrate, web})
		res, err := r.wait(t)
		if err != nil {
			t.Fatal(err)
		}
		if want := (Result{Cause: "migrate.1", Code: 2}); res != want {
			t.Errorf("Result = %+v, want %+v", res, want)
		}
		if got := r.rec.started("web.1"); len(got) != 0 {
			t.Errorf("web.1 started although migrate failed")
		}
	})
	t.Run("all done", func(t *testing.T) {
		t.Parallel()
		a := helper("a.1", "exit", "0")
		a.Oneshot = true
		b := helper("b.1", "exit", "4")
		b.CanDie = true
		r := startRun(t, Options{Timeout: time.Minute}, []Spec{a, b})
		res, err := r.wait(t)
		if err != nil {
			t.Fatal(err)
		}
		if res != (Result{}) {
			t.Errorf("Result = %+v, want zero: everything finished acceptably", res)
		}
		if msgs := r.rec.systemMsgs(); len(msgs) != 1 || msgs[0] != "every process has finished" {
			t.Errorf("system messages %q", msgs)
		}
	})
	t.Run("cycle", func(t *testing.T) {
		a := helper("a.1", "exit", "0")
		a.After = []string{"b"}
		b := helper("b.1", "exit", "0")
		b.After = []string{"a"}
		_, err := New(Options{Sink: newSinkRec()}).Run(context.Background(), []Spec{a, b})
		if err == nil || !strings.Contains(err.Error(), "processes wait for each other: a -> b -> a") {
			t.Errorf("Run = %v, want the cycle named", err)
		}
	})
}

// freePort returns a port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	web := helper("web.1", "listen", strconv.Itoa(port))
	web.Port = port
	web.Ready = Readiness{Port: true}
	worker := helper("worker.1", "group", "die", "none", "-")
	worker.Ready = Readiness{Line: "^rea.y$"}
	worker.After = []string{"web"}
	clock := helper("clock.1", "group", "die", "none", "-")
	clock.After = []string{"worker"}
	r := startRun(t, Options{Timeout: time.Minute}, []Spec{clock, worker, web})
	r.rec.waitLine(t, "clock.1", "ready")
	webReady := r.rec.event(t, Ready, "web.1")
	if webReady.Port != port || webReady.Elapsed <= 0 {
		t.Errorf("web.1's Ready = %+v, want port %d", webReady, port)
	}
	if e := r.rec.event(t, Ready, "worker.1"); e.Msg != "ready" || e.Port != 0 {
		t.Errorf("worker.1's Ready = %+v, want the line", e)
	}
	// The line that makes a process ready is written before it is ready:
	// whoever acts on Ready (start -D's caller, which stops showing the
	// output then) has seen it.
	if iLine := r.rec.index(func(e recEntry) bool { return e.name == "worker.1" && e.line == "ready" }); iLine < 0 || iLine > r.rec.at(Ready, "worker.1", "") {
		t.Errorf("worker.1's Ready came before its ready line:\n%s", r.rec.dump())
	}
	if r.rec.events(Ready)[0].Name != "web.1" {
		t.Errorf("web.1 was not ready first")
	}
	iWorker := r.rec.at(Started, "worker.1", "")
	iClock := r.rec.at(Started, "clock.1", "")
	if iWorker < r.rec.at(Ready, "web.1", "") || iClock < r.rec.at(Ready, "worker.1", "") {
		t.Errorf("a process started before what it waits for was ready:\n%s", r.rec.dump())
	}
	if st := statusOf(t, r.sup, "web.1"); !st.Ready {
		t.Errorf("web.1 %+v, want ready", st)
	}
	r.interrupt(t)
}

func TestKeepGoing(t *testing.T) {
	t.Parallel()
	count := filepath.Join(t.TempDir(), "runs")
	specs := []Spec{helper("web.1", "group", "die", "none", "-"), helper("crash.1", "count", count, "3")}
	r := startRun(t, Options{Timeout: time.Minute, KeepGoing: true}, specs)
	r.rec.waitSystem(t, "crash.1 is down; the others keep running")
	if st := statusOf(t, r.sup, "crash.1"); st.State != StateCrashed || st.Code != 3 {
		t.Errorf("crash.1 %+v, want crashed with 3", st)
	}
	if err := r.sup.Restart(opCtx(t), []string{"crash.1"}, "main.go changed"); err != nil {
		t.Fatal(err)
	}
	r.rec.waitLine(t, "crash.1", "run 2")
	r.rec.waitSystem(t, "starting crash.1: main.go changed")
	if st := statusOf(t, r.sup, "web.1"); st.State != StateRunning {
		t.Errorf("web.1 %+v, want running", st)
	}
	r.interrupt(t)
}

func TestCanDie(t *testing.T) {
	t.Parallel()
	die := helper("die.1", "exit", "1")
	die.CanDie = true
	r := startRun(t, Options{Timeout: time.Minute}, []Spec{helper("web.1", "group", "die", "none", "-"), die})
	r.rec.waitLine(t, "web.1", "ready")
	r.rec.waitLine(t, "die.1", "bye")
	r.rec.waitEvent(t, Exited, "die.1")
	if st := statusOf(t, r.sup, "web.1"); st.State != StateRunning {
		t.Errorf("web.1 %+v, want running", st)
	}
	r.interrupt(t)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	specs := []Spec{
		helper("web.1", "group", "die", "none", "-"),
		helper("worker.1", "group", "die", "none", "-"),
		helper("old.1", "group", "die", "none", "-"),
	}
	r := startRun(t, Options{Timeout: time.Minute}, specs)
	for _, n := range []string{"web.1", "worker.1", "old.1"} {
		r.rec.waitLine(t, n, "ready")
	}
	webPid := r.rec.started("web.1")[0]
	changed := helper("worker.1", "group", "die", "none", "-")
	changed.Env = append(changed.Env, "NEW=1")
	next := []Spec{helper("new.1", "group", "die", "none", "-"), specs[0], changed}
	if err := r.sup.Update(opCtx(t), next, "Procfile changed"); err != nil {
		t.Fatal(err)
	}
	r.rec.waitStarts(t, "worker.1", 2)
	r.rec.waitLine(t, "new.1", "ready")
	// old.1 has no grandchildren: its group is empty when its exit is
	// handled, and it is forgotten in the same step.
	r.rec.waitEvent(t, Exited, "old.1")
	sts, err := r.sup.Status(opCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sts {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"new.1", "web.1", "worker.1"}) {
		t.Errorf("processes after the update: %q", names)
	}
	if got := r.rec.started("web.1"); len(got) != 1 || got[0] != webPid {
		t.Errorf("web.1 was restarted: %v", got)
	}
	for _, m := range []string{"starting new.1: Procfile changed", "restarting worker.1: Procfile changed", "stopping old.1: Procfile changed"} {
		r.rec.waitSystem(t, m)
	}
	if err := r.sup.Update(opCtx(t), []Spec{{Name: "x"}}, ""); err == nil {
		t.Error("Update with an empty command succeeded")
	}
	r.interrupt(t)
	if _, err := r.sup.Status(opCtx(t)); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Status after Run = %v, want ErrShuttingDown", err)
	}
}
