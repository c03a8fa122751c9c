package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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
on_crash: ./bin/alert "$GANGER_PROCESS" >> crashes.log
notify: yes
router: true
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
	if f.OnCrash != `./bin/alert "$GANGER_PROCESS" >> crashes.log` || f.OnCrashLine != 20 || !f.Notify {
		t.Errorf("on_crash %q at line %d, notify %v", f.OnCrash, f.OnCrashLine, f.Notify)
	}
	if !f.Router {
		t.Errorf("router %v, want true", f.Router)
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
		{"procesess: {}\n", []string{`ganger.yml:1: unknown key "procesess"; known: processes, debounce, watch_ignore, on_crash, notify, router, daemon`}},
		{"processes:\n  web:\n    restrat: always\n", []string{`ganger.yml:3: web: unknown key "restrat"; known: restart, oneshot, can_die, tty, stop_signal, watch, ready, after`}},
		{"processes:\n  web:\n    restart: sometimes\n", []string{`ganger.yml:3: web: restart "sometimes": want never, on-failure or always`}},
		{"processes:\n  web:\n    stop_signal: STOP\n", []string{`ganger.yml:3: web: stop_signal "STOP": want one of TERM, INT, QUIT, HUP, USR1, USR2, KILL`}},
		{"processes:\n  web:\n    ready: soon\n", []string{`ganger.yml:3: web: ready "soon": want port, none or {line: "REGEX"}`}},
		{"processes:\n  web:\n    ready: {line: \"(\"}\n", []string{`ganger.yml:3: web: ready: line "(" is not a regular expression`}},
		{"processes:\n  web:\n    oneshot: maybe\n", []string{`ganger.yml:3: web: oneshot: "maybe" is not true or false`}},
		{"notify: maybe\n", []string{`ganger.yml:1: notify: "maybe" is not true or false`}},
		{"on_crash: [notify-send, x]\n", []string{`ganger.yml:1: on_crash: expected a plain value`}},
		{"on_crash: a\non_crash: b\n", []string{`ganger.yml:2: "on_crash" is set twice (first at line 1)`}},
		{"debounce: soon\n", []string{`ganger.yml:1: debounce "soon": want a duration such as 200ms or 1s`}},
		{"processes: [web]\n", []string{`ganger.yml:1: processes: expected process types`}},
		{"processes:\n  web: on\n", []string{`ganger.yml:2: web: expected settings such as "restart: on-failure"`}},
		{"- a\n", []string{`ganger.yml:1: expected keys such as processes:`}},
		{"processes:\n  web: {restart: [a]}\n", []string{`ganger.yml:2: web: restart: expected a plain value`}},
		{"processes:\n  web: {stop_signal: {a: b}, ready: {line: [x]}}\n", []string{`ganger.yml:2: web: stop_signal: expected a plain value`, `ganger.yml:2: web: ready: line: expected a plain value`}},
		// A key set twice is an error, not the last one silently winning.
		{"debounce: 1s\ndebounce: 2s\n", []string{`ganger.yml:2: "debounce" is set twice (first at line 1); hint: keep one`}},
		{"processes:\n  web:\n    restart: always\n    restart: never\n", []string{`ganger.yml:4: web: "restart" is set twice (first at line 3); hint: keep one`}},
		{"processes:\n  web:\n    ready: {line: a, line: b}\n", []string{`ganger.yml:3: web: ready: "line" is set twice (first at line 3); hint: keep one`}},
		{"processes:\n  web: {}\nprocesses:\n  worker: {}\n", []string{`ganger.yml:3: "processes" is set twice (first at line 1); hint: keep one`}},
		// A second document is not silently ignored.
		{"processes:\n  web: {}\n---\nprocesses:\n  wrker: {}\n", []string{`ganger.yml:3: a second YAML document starts here; hint: ganger reads only the first, so merge the two and remove the "---"`}},
		{"processes:\n  web: {}\n---\n- [\n", []string{`ganger.yml:4: did not find expected node content`}},
		{"processes:\n\tweb: {}\n", []string{`ganger.yml:2: found character that cannot start any token`}},
		// Every problem is reported, not only the first.
		{"processes:\n  web:\n    restart: x\n    oneshot: y\n", []string{`ganger.yml:3: web: restart "x"`, `ganger.yml:4: web: oneshot: "y"`}},
		{"debounce: x\nwatch_ignore: {a: b}\nprocesses:\n  web:\n    restrat: always\n    ready: soon\n  worker: 3\nextra: 1\n", []string{
			`ganger.yml:1: debounce "x"`, `ganger.yml:2: watch_ignore: expected a list`, `ganger.yml:5: web: unknown key "restrat"`,
			`ganger.yml:6: web: ready "soon"`, `ganger.yml:7: worker: expected settings`, `ganger.yml:8: unknown key "extra"`}},
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
	f.Add("processes: {a: {after: [b]}, b: {after: [c, a]}, c: {after: [a]}}")
	f.Add("processes:\n  web:\n    restrat: x\n    restart: y\n    restart: z\n---\nx: 1\n")
	f.Add("- [")
	f.Fuzz(func(t *testing.T, src string) {
		cf, err := Parse(strings.NewReader(src), "ganger.yml")
		if cf == nil {
			t.Fatalf("no File (error %v)", err)
		}
		allLineErrors(t, err)
		for name, p := range cf.Processes {
			if p.Type != name {
				t.Fatalf("process %q has type %q", name, p.Type)
			}
		}
		// Whatever Parse read, with or without errors, Check can check.
		allLineErrors(t, cf.Check([]string{"web", "a", "b"}, func(string) error { return nil }))
	})
}

// allLineErrors fails unless err is nil or joins only *LineErrors.
func allLineErrors(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, one := range errs {
		if le, ok := one.(*LineError); !ok || le.Path != "ganger.yml" {
			t.Fatalf("error %v is a %T, not a *LineError of ganger.yml", one, one)
		}
	}
}

// TestCheckAfterCycles: a cycle of after: would leave its processes
// waiting forever. Check names the after: that closes it, with every other
// problem, in line order.
func TestCheckAfterCycles(t *testing.T) {
	types := []string{"web", "worker", "migrate", "clock"}
	tests := []struct {
		name, src string
		want      []string // the whole error, line by line; nil: none
	}{
		{"no cycle", "processes:\n  web:\n    after: [migrate, worker]\n  worker:\n    after: migrate\n  migrate: {}\n", nil},
		{"two", "processes:\n  web:\n    after: [worker]\n  worker:\n    after: [web]\n", []string{
			`ganger.yml:5: worker: after: "web" closes a cycle, web -> worker -> web, so none of them can start; hint: remove one of these after: entries`,
		}},
		{"itself", "processes:\n  web:\n    after: [migrate, web]\n", []string{
			`ganger.yml:3: web: after: a process cannot wait for itself; hint: remove "web" from its after:`,
		}},
		{"three", "processes:\n  migrate:\n    after: [worker]\n  web:\n    after: migrate\n  worker:\n    after: [web]\n", []string{
			`ganger.yml:5: web: after: "migrate" closes a cycle, migrate -> worker -> web -> migrate, so none of them can start; hint: remove one of these after: entries`,
		}},
		{"two cycles and unknown names", "processes:\n  web:\n    after: [worker, wrker]\n  worker:\n    after: [web, web]\n  clock:\n    after: [migrate]\n  migrate:\n    after: [clock]\n  db: {}\n", []string{
			`ganger.yml:3: web: after: "wrker" is not in the Procfile; known: web, worker, migrate, clock`,
			`ganger.yml:5: worker: after: "web" closes a cycle, web -> worker -> web, so none of them can start; hint: remove one of these after: entries`,
			`ganger.yml:9: migrate: after: "clock" closes a cycle, clock -> migrate -> clock, so none of them can start; hint: remove one of these after: entries`,
			`ganger.yml:10: process "db" is not in the Procfile; known: web, worker, migrate, clock`,
		}},
		{"one line", "processes: {web: {after: [worker]}, worker: {after: [web]}}\n", []string{
			`ganger.yml:1: worker: after: "web" closes a cycle, web -> worker -> web, so none of them can start; hint: remove one of these after: entries`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tc.src), "ganger.yml")
			if err != nil {
				t.Fatal(err)
			}
			err = f.Check(types, nil)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Check:\n got %q\nwant %q", got, tc.want)
			}
			if err != nil {
				for _, one := range err.(interface{ Unwrap() []error }).Unwrap() {
					if _, ok := one.(*LineError); !ok {
						t.Errorf("%v is a %T, not a *LineError", one, one)
					}
				}
			}
		})
	}
}

// TestParseThenCheck: a problem Parse finds does not hide one Check finds;
// the File Parse returns with its error holds what it could read.
func TestParseThenCheck(t *testing.T) {
	src := "processes:\n  web:\n    restrat: always\n    after: [worker]\n  wrker:\n    oneshot: maybe\n  worker:\n    after: web\n"
	f, err := Parse(strings.NewReader(src), "ganger.yml")
	want := `ganger.yml:3: web: unknown key "restrat"; known: restart, oneshot, can_die, tty, stop_signal, watch, ready, after` + "\n" +
		`ganger.yml:6: wrker: oneshot: "maybe" is not true or false`
	if err == nil || err.Error() != want {
		t.Fatalf("Parse error:\n got %v\nwant %s", err, want)
	}
	if f == nil {
		t.Fatal("Parse returned no File with its error")
	}
	err = f.Check([]string{"web", "worker"}, nil)
	want = `ganger.yml:5: process "wrker" is not in the Procfile; known: web, worker` + "\n" +
		`ganger.yml:8: worker: after: "web" closes a cycle, web -> worker -> web, so none of them can start; hint: remove one of these after: entries`
	if err == nil || err.Error() != want {
		t.Fatalf("Check error:\n got %v\nwant %s", err, want)
	}

	// A YAML syntax error leaves nothing to check, but still a File.
	f, err = Parse(strings.NewReader("processes:\n\tweb: {}\n"), "ganger.yml")
	if err == nil || f == nil || len(f.Processes) != 0 || f.Check(nil, nil) != nil {
		t.Fatalf("syntax error: File %+v, error %v", f, err)
	}
	// Only a read error gives no File.
	if f, err := Parse(iotest.ErrReader(errors.New("boom")), "ganger.yml"); f != nil || err == nil {
		t.Fatalf("read error: File %+v, error %v", f, err)
	}
}

func TestParseDocuments(t *testing.T) {
	for _, src := range []string{"", "---\n", "# only a comment\n", "---\nprocesses:\n  web: {}\n", "processes:\n  web: {}\n---\n", "processes:\n  web: {}\n...\n"} {
		if _, err := Parse(strings.NewReader(src), "ganger.yml"); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
}
