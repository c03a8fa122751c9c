package buildpack

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRelease(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Release
		err  string
	}{
		{name: "empty", in: ""},
		{name: "go's", in: "--- {}\n"},
		{name: "null", in: "~\n"},
		{name: "nodejs", in: "addons: []\ndefault_process_types:\n  web: npm start\n",
			want: Release{DefaultProcessTypes: []ProcessType{{"web", "npm start"}}}},
		{name: "full, order kept", in: "---\naddons:\n  - heroku-postgresql\nconfig_vars:\n  PATH: /app/bin:/usr/bin\n  N: 3\n  B: true\ndefault_process_types:\n  worker: ./w\n  web: ./web -p $PORT\n",
			want: Release{Addons: []string{"heroku-postgresql"}, ConfigVars: map[string]string{"PATH": "/app/bin:/usr/bin", "N": "3", "B": "true"},
				DefaultProcessTypes: []ProcessType{{"worker", "./w"}, {"web", "./web -p $PORT"}}}},
		{name: "null sections", in: "config_vars:\ndefault_process_types: ~\n"},
		{name: "unknown keys", in: "foo: bar\n"},
		{name: "duplicate type, later wins", in: "default_process_types:\n  web: a\n  web: b\n", want: Release{DefaultProcessTypes: []ProcessType{{"web", "b"}}}},
		{name: "not yaml", in: "a: [\n", err: "invalid YAML"},
		{name: "list", in: "- a\n", err: "expected a mapping"},
		{name: "scalar", in: "hello\n", err: "expected a mapping"},
		{name: "types not a map", in: "default_process_types: [web]\n", err: "must be a mapping"},
		{name: "nested command", in: "default_process_types:\n  web: {a: b}\n", err: "must map names to strings"},
		{name: "bad type name", in: "default_process_types:\n  'web app': x\n", err: `process type "web app"`},
		{name: "empty command", in: "default_process_types:\n  web: ''\n", err: "empty command"},
		{name: "bad var", in: "config_vars:\n  A-B: x\n", err: `config var "A-B"`},
		{name: "addons not list", in: "addons: x\n", err: "addons must be a list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRelease([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReleaseMerge(t *testing.T) {
	a := Release{ConfigVars: map[string]string{"A": "1", "S": "a"}, DefaultProcessTypes: []ProcessType{{"web", "a"}, {"worker", "w"}}, Addons: []string{"x"}}
	b := Release{ConfigVars: map[string]string{"S": "b"}, DefaultProcessTypes: []ProcessType{{"clock", "c"}, {"web", "b"}}}
	got := a.merge(b)
	want := Release{Addons: []string{"x"}, ConfigVars: map[string]string{"A": "1", "S": "b"},
		DefaultProcessTypes: []ProcessType{{"web", "b"}, {"worker", "w"}, {"clock", "c"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if a.DefaultProcessTypes[0].Command != "a" || a.ConfigVars["S"] != "a" {
		t.Error("merge modified its receiver")
	}
}

// FuzzParseRelease: never panics; every accepted process type has a valid
// name and a command, every config var a valid name.
func FuzzParseRelease(f *testing.F) {
	for _, s := range []string{"--- {}", "default_process_types:\n  web: x\n", "config_vars:\n  A: 1\n", "addons: [a, {b: c}]", "&a [*a]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rel, err := parseRelease([]byte(s))
		if err != nil {
			return
		}
		for _, p := range rel.DefaultProcessTypes {
			if !validProcessName(p.Name) || strings.TrimSpace(p.Command) == "" {
				t.Fatalf("accepted %+v", p)
			}
		}
		for k := range rel.ConfigVars {
			if !validKey(k) {
				t.Fatalf("accepted config var %q", k)
			}
		}
	})
}
