package env_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"

	"github.com/gangerdev/ganger/env"
)

// TestDollarsAgreeWithCompose: "$$" reads as docker compose's env files
// read it (compose-go's dotenv parser): one literal '$', unquoted and in
// double quotes, and "$$" in single quotes. godotenv keeps "$$" instead
// (differCases).
func TestDollarsAgreeWithCompose(t *testing.T) {
	lookup := map[string]string{"HOME": "/h"}
	for _, in := range []string{
		"A=$$",
		"A=pa$$word",
		`A="pa$$word"`,
		"A='pa$$word'",
		"A=$$HOME",
		`A="$$HOME"`,
		"A=$$$HOME",
		"A=$$$$",
		"A=x$$ y",
		"A=${NOPE:-$$}",
		`A="${NOPE:-a$$b}"`,
	} {
		vars, err := env.Parse(strings.NewReader(in), ".env", mapLookup(lookup))
		if err != nil {
			t.Errorf("ganger Parse(%q): %v", in, err)
			continue
		}
		theirs, err := dotenv.ParseWithLookup(strings.NewReader(in), func(k string) (string, bool) {
			v, ok := lookup[k]
			return v, ok
		})
		if err != nil {
			t.Errorf("compose-go Parse(%q): %v", in, err)
			continue
		}
		if ours := toMap(vars); !maps.Equal(ours, theirs) {
			t.Errorf("Parse(%q):\n ganger     %q\n compose-go %q", in, ours, theirs)
		}
	}
}
