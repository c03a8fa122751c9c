package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadForeman(t *testing.T) {
	known := []string{"port", "env", "no-timestamp", "formation"}
	for _, tt := range []struct {
		name, file string
		want       map[string]string
		err        string
	}{
		{name: "missing", want: map[string]string{}},
		{name: "empty", file: "", want: map[string]string{}},
		{name: "values", file: "port: 6000\nno_timestamp: true\nenv: [.env, .env.local]\n",
			want: map[string]string{"port": "6000", "no-timestamp": "true", "env": ".env,.env.local"}},
		{name: "unknown", file: "port: 1\nbogus: 2\n", err: `.foreman:2: unknown option "bogus"; hint: known options are env, formation, no-timestamp, port`},
		{name: "not a map", file: "- a\n", err: ".foreman:1: expected option names and values"},
		{name: "twice", file: "port: 1\nno-timestamp: true\nno_timestamp: false\n", err: `.foreman:3: option "no-timestamp" is set twice (first at line 2); hint: keep one`},
		{name: "nested", file: "port:\n  a: 1\n", err: `.foreman:2: option "port" needs a plain value`},
		{name: "bad yaml", file: "port: [\n", err: ".foreman:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.name != "missing" {
				if err := os.WriteFile(filepath.Join(dir, ForemanFile), []byte(tt.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fc, err := ReadForeman(dir, known)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(fc.Values) != len(tt.want) {
				t.Fatalf("values = %v, want %v", fc.Values, tt.want)
			}
			for k, v := range tt.want {
				if fc.Values[k] != v {
					t.Errorf("%s = %q, want %q", k, fc.Values[k], v)
				}
			}
		})
	}
}
