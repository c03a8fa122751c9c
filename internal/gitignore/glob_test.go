package gitignore

import (
	"fmt"
	"strings"
	"testing"
)

// globTests give, for each glob, paths it matches and paths it does not
// ("" is the empty path).
var globTests = []struct {
	glob            string
	matches, misses []string
}{
	// A whole-segment "**" matches zero or more segments, at the start,
	// the end (the directory itself included) or in the middle.
	{"**/*.go", []string{"main.go", "cmd/web/main.go"}, []string{"main.go.orig", "go"}},
	{"worker/**", []string{"worker", "worker/main.rb", "worker/jobs/mail.rb"}, []string{"workers/main.rb", "app/worker/main.rb"}},
	{"app/**/views/*.erb", []string{"app/views/index.erb", "app/admin/x/views/index.erb"}, []string{"app/admin/views/sub/index.erb"}},
	{"a/**/**/b", []string{"a/b", "a/x/y/z/b"}, []string{"a", "b"}},
	{"a/**/b/**/c", []string{"a/x/b/y/z/c", "a/b/c"}, []string{"a/x/c"}},
	{"**", []string{"anything/at/all", ""}, nil},
	{"a", []string{"a"}, []string{"a/b", ""}},
	// Anchored at both ends: without "**" no directory is crossed.
	{"*.go", []string{"main.go"}, []string{"cmd/main.go"}},
	{"cmd/*.go", []string{"cmd/main.go"}, []string{"cmd/web/main.go"}},
	// "*" within a segment, dot files included; "**" inside a segment is "*".
	{"*", []string{".env", "x"}, []string{"x/y", ""}},
	{"a**b", []string{"axyzb", "ab"}, []string{"ax/yb"}},
	// "?", classes, negated classes both ways, escapes.
	{"file?.txt", []string{"file1.txt"}, []string{"file10.txt", "file.txt"}},
	{"[a-c].go", []string{"b.go"}, []string{"d.go"}},
	{"[!a-c].go", []string{"d.go"}, []string{"a.go"}},
	{"[^a-c].go", []string{"d.go"}, []string{"a.go"}},
	{`\*.go`, []string{"*.go"}, []string{"x.go"}},
	{`[\!]x`, []string{"!x"}, []string{"x"}},
	// Empty segments are dropped.
	{"src//a.go", []string{"src/a.go"}, nil},
	{"/src/", []string{"src"}, nil},
	{"", []string{""}, []string{"a"}},
}

func TestGlob(t *testing.T) {
	for _, tt := range globTests {
		g, err := CompileGlob(tt.glob)
		if err != nil {
			t.Errorf("CompileGlob(%q): %v", tt.glob, err)
			continue
		}
		for _, want := range []bool{true, false} {
			paths := tt.matches
			if !want {
				paths = tt.misses
			}
			for _, p := range paths {
				var segs []string
				if p != "" {
					segs = strings.Split(p, "/")
				}
				if got := g.Match(segs); got != want {
					t.Errorf("glob %q, path %q: Match = %v, want %v", tt.glob, p, got, want)
				}
			}
		}
	}
}

func TestCompileGlobError(t *testing.T) {
	for _, p := range []string{"[", "src/[a-", `x\`, "a/[!]/b"} {
		_, err := CompileGlob(p)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("bad glob %q", p)) || !strings.Contains(err.Error(), `close every "["`) {
			t.Errorf("CompileGlob(%q) = %v, want a bad glob error quoting it, with a hint", p, err)
		}
	}
}

// TestGlobDeep: a path deeper than the matcher's stack buffers.
func TestGlobDeep(t *testing.T) {
	deep := strings.Split(strings.Repeat("d/", 40)+"x.go", "/")
	for p, want := range map[string]bool{"**/*.go": true, "**/d/**/x.go": true, "d/*.go": false, "**/y.go": false} {
		g, err := CompileGlob(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Match(deep); got != want {
			t.Errorf("%q on a 41-segment path = %v, want %v", p, got, want)
		}
	}
}

func TestNegateClasses(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[!a]", "[^a]"},
		{`\[!a]`, `\[!a]`},
		{"[a!]", "[a!]"},
		{"[!a][!b]", "[^a][^b]"},
		{`[\]!][!x]`, `[\]!][^x]`},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := negateClasses(tt.in); got != tt.want {
			t.Errorf("negateClasses(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzGlob: no pattern or path makes the glob matcher panic or hang, a
// malformed pattern is an error, and a pattern without metacharacters
// matches itself.
func FuzzGlob(f *testing.F) {
	for _, tt := range globTests {
		for _, p := range append(tt.matches, tt.misses...) {
			f.Add(tt.glob, p)
		}
	}
	f.Add("[", "[")
	f.Add("**/**/**/**/**/**/**/**/x", strings.Repeat("a/", 40)+"y")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		g, err := CompileGlob(pattern)
		if err == nil {
			g.Match(strings.Split(name, "/"))
		}
		lit := strings.Trim(pattern, "/")
		if lit != "" && !strings.ContainsAny(lit, `*?[\`) && !strings.Contains(lit, "//") {
			if err != nil || !g.Match(strings.Split(lit, "/")) {
				t.Fatalf("literal %q does not match %q: %v", pattern, lit, err)
			}
		}
	})
}
