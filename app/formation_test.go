package app

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/gangerdev/ganger/procfile"
	"github.com/gangerdev/ganger/runner"
)

const threeTypes = "web: ./web\nworker: ./worker\nrelease: ./migrate\nclock: ./clock\n"

// TestSpecsSelection checks which instances, with which ports, a selection
// yields: foreman's and heroku local's spellings, -m, and their mix.
func TestSpecsSelection(t *testing.T) {
	for _, tt := range []struct {
		name      string
		formation string // -m
		args      []string
		want      []string // name:port
		usage     bool     // a UsageError
	}{
		{name: "default: all but release", want: []string{"web.1:5000", "worker.1:5100", "clock.1:5300"}},
		{name: "named types", args: []string{"web", "clock"}, want: []string{"web.1:5000", "clock.1:5300"}},
		{name: "release when named", args: []string{"release"}, want: []string{"release.1:5200"}},
		{name: "positional counts", args: []string{"web=2,worker"}, want: []string{"web.1:5000", "web.2:5001", "worker.1:5100"}},
		{name: "-m: unlisted types get 0, as in foreman", formation: "web=2", want: []string{"web.1:5000", "web.2:5001"}},
		{name: "-m with all", formation: "web=2,all=1", want: []string{"web.1:5000", "web.2:5001", "worker.1:5100", "clock.1:5300"}},
		{name: "-m scales to 0", formation: "all=1,worker=0", want: []string{"web.1:5000", "clock.1:5300"}},
		{name: "positional count over -m", formation: "web=3", args: []string{"web=1"}, want: []string{"web.1:5000"}},
		{name: "everything at 0", formation: "all=0", usage: true},
		{name: "unknown type", args: []string{"nope"}, usage: true},
		{name: "bad positional", args: []string{"web=x"}, usage: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := testApp(t, threeTypes)
			var f procfile.Formation
			if tt.formation != "" {
				var err error
				if f, err = procfile.ParseFormation(tt.formation); err != nil {
					t.Fatal(err)
				}
			}
			specs, err := func() ([]runner.Spec, error) {
				sel, err := Select(f, tt.args)
				if err != nil {
					return nil, err
				}
				return newPlan(sel, Policies{}).specs(a, testConfig(t, ""))
			}()
			if tt.usage {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a UsageError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range specs {
				got = append(got, s.Name+":"+itoa(s.Port))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("instances = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSpecsOfAnInstance checks what one instance gets: its command through
// sh, the app root, its environment, and ganger.yml's and the command
// line's policies.
func TestSpecsOfAnInstance(t *testing.T) {
	a := testApp(t, "web: ./web --port $PORT\nworker: ./worker && echo done\n")
	a.Env.Set("DATABASE_URL", "postgres://x", ".env")
	cf := testConfig(t, "processes:\n  worker:\n    restart: on-failure\n    stop_signal: INT\n    ready: {line: ^up}\n")
	pl := newPlan(Selection{}, Policies{AutoRestart: []string{"web"}, CanDie: []string{"all"}})
	specs, err := pl.specs(a, cf)
	if err != nil {
		t.Fatal(err)
	}
	web, worker := specs[0], specs[1]
	if !slices.Equal(web.Argv, []string{"/bin/sh", "-c", "exec ./web --port $PORT"}) || web.Dir != a.Root {
		t.Errorf("web runs %q in %s", web.Argv, web.Dir)
	}
	if !slices.Equal(worker.Argv, []string{"/bin/sh", "-c", "./worker && echo done"}) {
		t.Errorf("worker runs %q: a compound command keeps its shell", worker.Argv)
	}
	for _, want := range []string{"PORT=5000", "PS=web.1", "DYNO=web.1", "DATABASE_URL=postgres://x"} {
		if !slices.Contains(web.Env, want) {
			t.Errorf("web's environment lacks %s: %v", want, web.Env)
		}
	}
	if web.Restart != runner.RestartAlways || !web.CanDie || !web.Ready.Port {
		t.Errorf("web: restart %v, can die %v, ready %+v; want always, true, port", web.Restart, web.CanDie, web.Ready)
	}
	if worker.Restart != runner.RestartOnFailure || worker.StopSignal != syscall.SIGINT || worker.Ready.Line != "^up" || !worker.CanDie {
		t.Errorf("worker: restart %v, stop %v, ready %+v, can die %v", worker.Restart, worker.StopSignal, worker.Ready, worker.CanDie)
	}
	if _, err := newPlan(Selection{}, Policies{CanDie: []string{"nope"}}).specs(a, cf); err == nil || !strings.Contains(err.Error(), `unknown process type "nope"`) {
		t.Errorf("--can-die nope: err = %v", err)
	}
}

func TestInstance(t *testing.T) {
	a := testApp(t, threeTypes)
	for _, tt := range []struct {
		arg, name string
		port      int
		ok        bool
	}{
		{"web", "web.1", 5000, true},
		{"web.2", "web.2", 5001, true},
		{"clock.3", "clock.3", 5302, true},
		{"web.0", "", 0, false},
		{"web.x", "", 0, false},
		{"nope", "", 0, false},
	} {
		name, port, err := a.Instance(tt.arg)
		if (err == nil) != tt.ok || name != tt.name || port != tt.port {
			t.Errorf("Instance(%q) = %q, %d, %v; want %q, %d, ok %v", tt.arg, name, port, err, tt.name, tt.port, tt.ok)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
