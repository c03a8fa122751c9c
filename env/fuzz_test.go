package env_test

import (
	"maps"
	"regexp"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/env"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain", "plain"},
		{"postgres://u@db:5432/x?sslmode=off", `"postgres://u@db:5432/x?sslmode=off"`},
		{"a-b_c.d/e:f@g%h+i,j=k^l", "a-b_c.d/e:f@g%h+i,j=k^l"},
		{"two words", `"two words"`},
		{"$HOME", `"\$HOME"`},
		{`C:\dir`, `"C:\\dir"`},
		{`say "hi"`, `"say \"hi\""`},
		{"a\nb\rc\td", `"a\nb\rc\td"`},
		{"#fff", `"#fff"`},
		{"it's", `"it's"`},
		{"~/x", `"~/x"`},
		{"ünï", `"ünï"`},
	} {
		if got := env.Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
		checkQuoteRoundTrip(t, tc.in)
	}
}

func TestDoubleQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{"$HOME", `"\$HOME"`},
		{`C:\dir`, `"C:\\dir"`},
		{"a\nb\rc\td \"q\"", `"a\nb\rc\td \"q\""`},
		{"ünï", `"ünï"`},
	} {
		if got := env.DoubleQuote(tc.in); got != tc.want {
			t.Errorf("DoubleQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
		checkQuoteRoundTrip(t, tc.in)
	}
}

// checkQuoteRoundTrip checks that Parse reads value back from both Quote
// and DoubleQuote.
func checkQuoteRoundTrip(t *testing.T, value string) {
	t.Helper()
	for _, in := range []string{"K=" + env.Quote(value) + "\n", "K=" + env.DoubleQuote(value) + "\n"} {
		vars, err := env.Parse(strings.NewReader(in), ".env", func(string) (string, bool) { return "EXPANDED", true })
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if len(vars) != 1 || vars[0].Value != value {
			t.Fatalf("Parse(%q) = %+v, want %q", in, vars, value)
		}
	}
}

// render writes vars as an env file that Parse reads back unchanged.
func render(vars []env.Var) string {
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(v.Key + "=" + env.Quote(v.Value) + "\n")
	}
	return b.String()
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "x", "a b", "$A ${B:-c}", `\"'`, "\r\n\t", "\ufeff", "#", " # ", "ü\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if strings.IndexByte(value, 0) >= 0 {
			return // a NUL byte cannot be written: Parse rejects it
		}
		checkQuoteRoundTrip(t, value)
	})
}

// safeLine is a line both parsers must read the same: a plain key and an
// unquoted value free of quotes, '#', '$', '\\' and control characters.
var safeLine = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_./:@,+= -]*$`)

func isSafeInput(in string) bool {
	if in == "" {
		return false
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(in, "\n"), "\n") {
		if !safeLine.MatchString(line) {
			return false
		}
	}
	return true
}

// sanitize turns any input into a safe one, so that the fuzzer's inputs
// also exercise the agreement with godotenv.
func sanitize(in string) string {
	keep := func(s string, ok func(rune) bool) string {
		return strings.Map(func(r rune) rune {
			if ok(r) {
				return r
			}
			return -1
		}, s)
	}
	var b strings.Builder
	for i, line := range strings.Split(in, "\n") {
		k, v, _ := strings.Cut(line, "=")
		k = keep(k, func(r rune) bool {
			return r == '_' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		})
		if k == "" || k[0] >= '0' && k[0] <= '9' {
			k = "K" + string(rune('a'+i%26)) + k
		}
		v = keep(v, func(r rune) bool {
			return r < 128 && strings.ContainsRune("_./:@,+= -", r) || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		})
		b.WriteString(k + "=" + v + "\n")
	}
	return b.String()
}

func agreeWithGodotenv(t *testing.T, in string) {
	t.Helper()
	vars, err := env.Parse(strings.NewReader(in), ".env", nil)
	if err != nil {
		t.Fatalf("ganger Parse(%q): %v", in, err)
	}
	theirs, err := godotenvParse(in)
	if err != nil {
		t.Fatalf("godotenv Parse(%q): %v", in, err)
	}
	if ours := toMap(vars); !maps.Equal(ours, theirs) {
		t.Fatalf("Parse(%q):\n ganger   %q\n godotenv %q", in, ours, theirs)
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		if len(tc.in) < 4096 {
			f.Add(tc.in)
		}
	}
	for _, in := range agreeInputs {
		f.Add(in)
	}
	for _, tc := range differCases {
		f.Add(tc.in)
	}
	for _, tc := range secretCases {
		if len(tc.in) < 4096 {
			f.Add(tc.in)
		}
	}
	lookup := func(k string) (string, bool) {
		if strings.HasPrefix(k, "S") {
			return "shell $X \\ \"q\"", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, in string) {
		vars, err := env.Parse(strings.NewReader(in), ".env", lookup)
		if err != nil {
			checkLineErrors(t, err)
			if vars != nil {
				t.Fatalf("vars with an error")
			}
		} else {
			// Round trip: what Parse read, rendered, reads back the same.
			out := render(vars)
			again, err := env.Parse(strings.NewReader(out), ".env", nil)
			if err != nil {
				t.Fatalf("re-parse of %q: %v", out, err)
			}
			if a, b := toMap(vars), toMap(again); !maps.Equal(a, b) {
				t.Fatalf("round trip of %q via %q:\n got %q\nwant %q", in, out, b, a)
			}
			for _, v := range vars {
				if v.Line < 1 || v.Line > strings.Count(in, "\n")+strings.Count(in, "\r")+1 {
					t.Fatalf("%s: line %d out of range", v.Key, v.Line)
				}
			}
		}
		if isSafeInput(in) {
			agreeWithGodotenv(t, in)
		}
		agreeWithGodotenv(t, sanitize(in))
		checkHidesValues(t, in, lookup)
	})
}

// checkHidesValues puts marker in a value on every line of in that has an
// '=' and checks that no error shows it.
func checkHidesValues(t *testing.T, in string, lookup func(string) (string, bool)) {
	t.Helper()
	if strings.Contains(in, marker) {
		return // it may be a key, which errors do name
	}
	marked := withMarker(in)
	if _, err := env.Parse(strings.NewReader(marked), ".env", lookup); err != nil && strings.Contains(err.Error(), marker) {
		t.Fatalf("an error of Parse(%q) shows a value:\n%s", marked, err)
	}
}

// withMarker puts marker into each line of in after its first '=', after
// each '=', ':', quote, '{', '?', '+', '-' and blank there. A key starts a
// line and ends before any '=', so marker is always in a value, a comment
// or text after a bad key: never in a key, which errors may name. Lines end
// as Parse ends them.
func withMarker(in string) string {
	var b strings.Builder
	inValue := false
	for i := 0; i < len(in); i++ {
		c := in[i]
		b.WriteByte(c)
		switch {
		case c == '\n' || c == '\r':
			inValue = false
		case !inValue:
			inValue = c == '='
		case strings.IndexByte("=:'\"{?+- \t", c) >= 0:
			b.WriteString(marker)
		}
	}
	return b.String()
}
