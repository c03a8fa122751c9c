package procfile

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type formationCase struct {
	spec string
	want Formation
	err  string // the exact Error() text
}

// formationCases also seed FuzzParseFormation.
func formationCases() []formationCase {
	return []formationCase{
		{spec: "web=2,all=1", want: Formation{"web": 2, "all": 1}},
		{spec: "web=2,worker", want: Formation{"web": 2, "worker": 1}},
		{spec: " web = 2 , worker ", want: Formation{"web": 2, "worker": 1}},
		{spec: "\tweb=2,,worker,", want: Formation{"web": 2, "worker": 1}},
		{spec: "web=0,all=3", want: Formation{"web": 0, "all": 3}},
		{spec: "web=007", want: Formation{"web": 7}},
		{spec: "my-worker_2=100", want: Formation{"my-worker_2": 100}},
		{spec: "", want: nil},
		{spec: " , ,", want: nil},

		{spec: "web=x", err: `formation "web=x": count must be a whole number >= 0`},
		{spec: "web=-1", err: `formation "web=-1": count must be a whole number >= 0`},
		{spec: "web=+1", err: `formation "web=+1": count must be a whole number >= 0`},
		{spec: "web=1.5", err: `formation "web=1.5": count must be a whole number >= 0`},
		{spec: "web=", err: `formation "web=": count must be a whole number >= 0`},
		{spec: "web=1=2", err: `formation "web=1=2": count must be a whole number >= 0`},
		{spec: "web=99999999999999999999", err: `formation "web=99999999999999999999": count "99999999999999999999" is too large`},
		{spec: "=2", err: `formation "=2": process name missing; hint: items look like "web=2"`},
		{spec: "w.b=2", err: `formation "w.b=2": invalid process name "w.b"; hint: names are letters, digits, '_' and '-', at most 63 long`},
		{spec: "w b", err: `formation "w b": invalid process name "w b"; hint: names are letters, digits, '_' and '-', at most 63 long`},
		{spec: "wéb=1", err: `formation "wéb=1": invalid process name "wéb"; hint: names are letters, digits, '_' and '-', at most 63 long`},
		{spec: strings.Repeat("a", 64), err: `formation "` + strings.Repeat("a", 64) + `": invalid process name "` +
			strings.Repeat("a", 60) + `"...; hint: names are letters, digits, '_' and '-', at most 63 long`},
		{spec: "web=1,worker,web=2", err: `formation "web=2": process "web" given twice`},
		{spec: "web=x,worker=-1,ok=1", err: `formation "web=x": count must be a whole number >= 0` + "\n" +
			`formation "worker=-1": count must be a whole number >= 0`},
	}
}

func TestParseFormation(t *testing.T) {
	for _, tc := range formationCases() {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseFormation(tc.spec)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("ParseFormation(%q) = %v, want error %q", tc.spec, got, tc.err)
				}
				if err.Error() != tc.err {
					t.Fatalf("ParseFormation(%q) error:\n got %s\nwant %s", tc.spec, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFormation(%q): %v", tc.spec, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseFormation(%q) = %#v, want %#v", tc.spec, got, tc.want)
			}
		})
	}
}

func TestFormationString(t *testing.T) {
	if got, want := (Formation{"worker": 2, "all": 0, "web": 1}).String(), "all=0,web=1,worker=2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := Formation(nil).String(); got != "" {
		t.Errorf("nil String() = %q, want empty", got)
	}
}

func TestPort(t *testing.T) {
	for _, tc := range []struct{ base, index, num, want int }{
		{5000, 0, 1, 5000},
		{5000, 0, 2, 5001},
		{5000, 1, 1, 5100},
		{5000, 3, 100, 5399},
		{5100, 2, 3, 5302},
	} {
		if got := Port(tc.base, tc.index, tc.num); got != tc.want {
			t.Errorf("Port(%d, %d, %d) = %d, want %d", tc.base, tc.index, tc.num, got, tc.want)
		}
	}
}

// fourTypes has release third, so the stable index is visible: clock is
// always index 3 (port base+300) whatever is selected.
func fourTypes(t *testing.T) *Procfile {
	t.Helper()
	p, err := Parse(strings.NewReader("web: ./web\nworker: ./worker\nrelease: ./migrate\nclock: ./clock\n"), "Procfile")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// short renders instances as "name:port" for compact expectations.
func short(is []Instance) []string {
	out := make([]string, len(is))
	for i, in := range is {
		out[i] = fmt.Sprintf("%s:%d", in.Name, in.Port)
	}
	return out
}

func TestInstances(t *testing.T) {
	p := fourTypes(t)
	for _, tc := range []struct {
		name  string
		types []string
		f     Formation
		base  int
		want  []string
	}{
		{name: "default: one each, release excluded", base: 5000,
			want: []string{"web.1:5000", "worker.1:5100", "clock.1:5300"}},
		{name: "other base", base: 3000,
			want: []string{"web.1:3000", "worker.1:3100", "clock.1:3300"}},
		{name: "scaled", f: Formation{"web": 2, "all": 1}, base: 5000,
			want: []string{"web.1:5000", "web.2:5001", "worker.1:5100", "clock.1:5300"}},
		{name: "all", f: Formation{"all": 2}, base: 5000,
			want: []string{"web.1:5000", "web.2:5001", "worker.1:5100", "worker.2:5101", "clock.1:5300", "clock.2:5301"}},
		{name: "scaled to zero keeps ports", f: Formation{"web": 0, "all": 1}, base: 5000,
			want: []string{"worker.1:5100", "clock.1:5300"}},
		{name: "all=0 with one type up", f: Formation{"all": 0, "clock": 1}, base: 5000,
			want: []string{"clock.1:5300"}},
		{name: "formation names the set (heroku local web=2,worker)", f: Formation{"web": 2, "worker": 1}, base: 5000,
			want: []string{"web.1:5000", "web.2:5001", "worker.1:5100"}},
		{name: "filtered keeps index", types: []string{"worker"}, base: 5000,
			want: []string{"worker.1:5100"}},
		{name: "filtered and scaled", types: []string{"clock"}, f: Formation{"clock": 3}, base: 5000,
			want: []string{"clock.1:5300", "clock.2:5301", "clock.3:5302"}},
		{name: "filter wins over formation", types: []string{"worker"}, f: Formation{"web": 2}, base: 5000,
			want: []string{"worker.1:5100"}},
		{name: "named type with all", types: []string{"web", "clock"}, f: Formation{"all": 2}, base: 5000,
			want: []string{"web.1:5000", "web.2:5001", "clock.1:5300", "clock.2:5301"}},
		{name: "named and scaled to zero", types: []string{"web"}, f: Formation{"web": 0}, base: 5000,
			want: []string{}},
		{name: "procfile order, duplicates ignored", types: []string{"clock", "web", "clock"}, base: 5000,
			want: []string{"web.1:5000", "clock.1:5300"}},
		{name: "release when named", types: []string{"release"}, base: 5000,
			want: []string{"release.1:5200"}},
		{name: "release when in formation", f: Formation{"release": 1, "all": 1}, base: 5000,
			want: []string{"web.1:5000", "worker.1:5100", "release.1:5200", "clock.1:5300"}},
		{name: "release not in all", f: Formation{"all": 1}, base: 5000,
			want: []string{"web.1:5000", "worker.1:5100", "clock.1:5300"}},
		{name: "release=0 in formation", f: Formation{"release": 0, "all": 1}, base: 5000,
			want: []string{"web.1:5000", "worker.1:5100", "clock.1:5300"}},
		{name: "everything zero", f: Formation{"all": 0}, base: 5000,
			want: []string{}},
		{name: "100 instances is the limit", types: []string{"worker"}, f: Formation{"worker": 100}, base: 5000,
			want: func() []string {
				var w []string
				for n := 1; n <= 100; n++ {
					w = append(w, fmt.Sprintf("worker.%d:%d", n, 5099+n))
				}
				return w
			}()},
		{name: "top port", types: []string{"clock"}, f: Formation{"clock": 2}, base: 65234,
			want: []string{"clock.1:65534", "clock.2:65535"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Instances(p, tc.types, tc.f, tc.base)
			if err != nil {
				t.Fatal(err)
			}
			if s := short(got); !reflect.DeepEqual(s, tc.want) {
				t.Errorf("Instances(%q, %v, %d):\n got %q\nwant %q", tc.types, tc.f, tc.base, s, tc.want)
			}
		})
	}
}

func TestInstancesFields(t *testing.T) {
	got, err := Instances(fourTypes(t), []string{"clock", "web"}, Formation{"web": 2}, 5000)
	if err != nil {
		t.Fatal(err)
	}
	want := []Instance{
		{Type: "web", Num: 1, Name: "web.1", Index: 0, Port: 5000, Command: "./web"},
		{Type: "web", Num: 2, Name: "web.2", Index: 0, Port: 5001, Command: "./web"},
		{Type: "clock", Num: 1, Name: "clock.1", Index: 3, Port: 5300, Command: "./clock"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Instances:\n got %+v\nwant %+v", got, want)
	}
}

func TestInstancesErrors(t *testing.T) {
	p := fourTypes(t)
	const has = "(Procfile has: web, worker, release, clock)"
	for _, tc := range []struct {
		name  string
		types []string
		f     Formation
		base  int
		err   string
	}{
		{name: "unknown type", types: []string{"web", "wrk"}, base: 5000,
			err: `unknown process type "wrk" ` + has},
		{name: "unknown formation key", f: Formation{"web": 1, "wrk": 2, "abc": 1}, base: 5000,
			err: `unknown process type "abc" ` + has + "\n" + `unknown process type "wrk" ` + has},
		{name: "too many", f: Formation{"web": 101}, base: 5000,
			err: `too many instances of "web" (101): at most 100, because ports step by 100 per process type`},
		{name: "too many via all", types: []string{"worker"}, f: Formation{"all": 500}, base: 5000,
			err: `too many instances of "worker" (500): at most 100, because ports step by 100 per process type`},
		{name: "negative", f: Formation{"web": -1}, base: 5000,
			err: `formation web=-1: count must be a whole number >= 0`},
		{name: "port overflow", base: 65500,
			err: `worker.1 would get port 65600, above 65535; hint: choose a lower base port with -p` + "\n" +
				`clock.1 would get port 65800, above 65535; hint: choose a lower base port with -p`},
		{name: "port overflow names the first instance past the limit", types: []string{"web"}, f: Formation{"web": 10}, base: 65530,
			err: `web.7 would get port 65536, above 65535; hint: choose a lower base port with -p`},
		{name: "negative base", base: -1,
			err: `base port -1 is outside 0-65535; hint: pick another with -p`},
		{name: "base too high", base: 70000,
			err: `base port 70000 is outside 0-65535; hint: pick another with -p`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Instances(p, tc.types, tc.f, tc.base)
			if err == nil {
				t.Fatalf("Instances = %q, want error %q", short(got), tc.err)
			}
			if err.Error() != tc.err {
				t.Errorf("error:\n got %s\nwant %s", err, tc.err)
			}
			if got != nil {
				t.Errorf("instances returned with an error: %q", short(got))
			}
		})
	}

	if _, err := Instances(nil, nil, nil, 5000); err == nil {
		t.Error("Instances(nil Procfile) succeeded")
	}
}

func FuzzParseFormation(f *testing.F) {
	for _, tc := range formationCases() {
		f.Add(tc.spec)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := ParseFormation(spec)
		if err != nil {
			if got != nil {
				t.Errorf("formation %v returned with error", got)
			}
			leaves := []error{err}
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				leaves = j.Unwrap()
			}
			for _, e := range leaves {
				if msg := e.Error(); !strings.HasPrefix(msg, "formation ") || strings.ContainsAny(msg, "\r\n") {
					t.Errorf("bad error text %q", msg)
				}
			}
			return
		}
		for name, n := range got {
			if !validName(name) || n < 0 {
				t.Errorf("accepted %q=%d", name, n)
			}
		}
		again, err := ParseFormation(got.String())
		if err != nil {
			t.Fatalf("re-parsing %q: %v", got.String(), err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Errorf("re-parse of %q = %v, want %v", got.String(), again, got)
		}
	})
}

// Errors from Instances are plain errors; make sure they join (callers use
// errors.Is/As on the pieces).
func TestInstancesErrorsJoin(t *testing.T) {
	_, err := Instances(fourTypes(t), []string{"a", "b"}, nil, 5000)
	j, ok := err.(interface{ Unwrap() []error })
	if !ok || len(j.Unwrap()) != 2 {
		t.Fatalf("err = %v, want two joined errors", err)
	}
	if errors.Unwrap(err) != nil {
		t.Error("joined error should not have a single Unwrap")
	}
}
