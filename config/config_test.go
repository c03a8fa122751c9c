package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	src := `# ganger.yml
debounce: 300ms
watch_ignore: [tmp/, "*.log"]
processes:
  web:
    restart: on-failure
    stop_signal: sigint
    watch: ["**/*.go", templates/**]
    ready: port
    after: [migrate]
  migrate:
    oneshot: true
  worker:
    ready: {line: "^booted in \\d+ms$"}
    watch: worker/**
  clock:
    can_die: true
    restart: always
  idle:
`
	f, err := Parse(strings.NewReader(src), "ganger.yml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Debounce != 300*time.Millisecond || !reflect.DeepEqual(f.WatchIgnore, []string{"tmp/", "*.log"}) {
		t.Errorf("debounce %v, watch_ignore %q", f.Debounce, f.WatchIgnore)
	}
	web := f.For("web")
	want := &Process{Type: "web", Line: 5, Restart: "on-failure", RestartLine: 6, StopSignal: "INT", StopSignalLine: 7,
		Watch: []string{"**/*.go", "templates/**"}, WatchLine: 8, Ready: &Ready{Port: true}, ReadyLine: 9,
		After: []string{"migrate"}, AfterLine: 10}
	if !reflect.DeepEqual(web, want) {
		t.Errorf("web = %+v\nwant  %+v", web, want)
	}
	if !f.For("migrate").Oneshot {
		t.Error("migrate is not a oneshot")
	}
	if r := f.For("worker").Ready; r == nil || r.Line != `^booted in \d+ms$` || r.Port {
		t.Errorf("worker ready = %+v", r)
	}
	if w := f.For("worker").Watch; !reflect.DeepEqual(w, []string{"worker/**"}) {
		t.Errorf("worker watch = %q", w)
	}
	if c := f.For("clock"); !c.CanDie || c.Restart != "always" {
		t.Errorf("clock = %+v", c)
	}
	if p := f.For("absent"); p.Type != "absent" || p.Restart != "" {
		t.Errorf("For(absent) = %+v", p)
	}
	if err := f.Check([]string{"web", "migrate", "worker", "clock", "idle"}, nil); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"procesess: {}\n", []string{`ganger.yml:1: unknown key "procesess"; known: processes, debounce, watch_ignore`}},
		{"processes:\n  web:\n    restrat: always\n", []string{`ganger.yml:3: web: unknown key "restrat"; known: restart, oneshot, can_die, stop_signal, watch, ready, after`}},
		{"processes:\n  web:\n    restart: sometimes\n", []string{`ganger.yml:3: web: restart "sometimes": want never, on-failure or always`}},
		{"processes:\n  web:\n    stop_signal: STOP\n", []string{`ganger.yml:3: web: stop_signal "STOP": want one of TERM, INT, QUIT, HUP, USR1, USR2, KILL`}},
		{"processes:\n  web:\n    ready: soon\n", []string{`ganger.yml:3: web: ready "soon": want port, none or {line: "REGEX"}`}},
		{"processes:\n  web:\n    ready: {line: \"(\"}\n", []string{`ganger.yml:3: web: ready: line "(" is not a regular expression`}},
		{"processes:\n  web:\n    oneshot: maybe\n", []string{`ganger.yml:3: web: oneshot: "maybe" is not true or false`}},
		{"debounce: soon\n", []string{`ganger.yml:1: debounce "soon": want a duration such as 200ms or 1s`}},
		{"processes: [web]\n", []string{`ganger.yml:1: processes: expected process types`}},
		{"processes:\n  web: on\n", []string{`ganger.yml:2: web: expected settings such as "restart: on-failure"`}},
		{"- a\n", []string{`ganger.yml:1: expected keys such as processes:`}},
		{"processes:\n  web: {restart: [a]}\n", []string{`ganger.yml:2: restart: expected a plain value`}},
		{"processes:\n\tweb: {}\n", []string{`ganger.yml:2: found character that cannot start any token`}},
		// Every problem is reported, not only the first.
		{"processes:\n  web:\n    restart: x\n    oneshot: y\n", []string{`ganger.yml:3: web: restart "x"`, `ganger.yml:4: web: oneshot: "y"`}},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.src), "ganger.yml")
		if err == nil {
			t.Errorf("Parse(%q) succeeded", tt.src)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Parse(%q) = %v\nwant it to contain %q", tt.src, err, w)
			}
		}
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("Parse(%q): %T is not a *LineError", tt.src, err)
		}
	}
}

func TestCheck(t *testing.T) {
	src := "processes:\n  web:\n    after: [db, web]\n    watch: [\"[\"]\n  wrk: {}\n"
	f, err := Parse(strings.NewReader(src), "ganger.yml")
	if err != nil {
		t.Fatal(err)
	}
	err = f.Check([]string{"web", "worker"}, func(g string) error {
		if g == "[" {
			return fmt.Errorf("bad pattern %q", g)
		}
		return nil
	})
	for _, w := range []string{
		`ganger.yml:3: web: after: "db" is not in the Procfile; known: web, worker`,
		`ganger.yml:3: web: after: a process cannot wait for itself`,
		`ganger.yml:4: web: watch: bad pattern "["`,
		`ganger.yml:5: process "wrk" is not in the Procfile; known: web, worker`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Check = %v\nwant %q", err, w)
		}
	}
}

func TestReadFileMissing(t *testing.T) {
	f, err := ReadFile(t.TempDir() + "/ganger.yml")
	if err != nil || len(f.Processes) != 0 {
		t.Fatalf("ReadFile(missing) = %+v, %v; want an empty file", f, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("processes:\n  web:\n    restart: on-failure\n    ready: {line: \"x\"}\n")
	f.Add("debounce: 1s\nwatch_ignore: a\n")
	f.Add("processes: {a: {after: [b]}, b: {oneshot: true}}")
	f.Add("- [")
	f.Fuzz(func(t *testing.T, src string) {
		cf, err := Parse(strings.NewReader(src), "ganger.yml")
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a *LineError", err)
			}
			return
		}
		for name, p := range cf.Processes {
			if p.Type != name {
				t.Fatalf("process %q has type %q", name, p.Type)
			}
		}
	})
}
