package watch

import (
	"path"
	"strings"
	"testing"
)

const rootIgnore = `# a comment, then a blank line

*.log
!keep.log
/tmp/
build/
gen/**
\#literal
\!bang
trailing   
escaped\ 
doc/*.md
**/cache
a/**/z
[Bb]in/
!node_modules
!.git
crlf.txt` + "\r" + `
`

const subIgnore = `*.out
!/local.out
/only-here
!app.log
`

func testIgnorer(t testing.TB, extra ...string) *ignorer {
	t.Helper()
	ig, err := newIgnorer(extra)
	if err != nil {
		t.Fatal(err)
	}
	for dir, text := range map[string]string{"": rootIgnore, "sub": subIgnore} {
		rules, errs := parseIgnore([]byte(text), join(dir, ".gitignore"))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		ig.files[dir] = rules
	}
	return ig
}

func TestIgnoreRules(t *testing.T) {
	ig := testIgnorer(t, "*.bak", "!gen/keep")
	tests := []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"main.go", false, false},
		// Unanchored patterns match at any depth; ! re-includes.
		{"app.log", false, true},
		{"x/y/app.log", false, true},
		{"keep.log", false, false},
		{"x/keep.log", false, false},
		// Leading / anchors; trailing / means directories only.
		{"tmp", true, true},
		{"tmp", false, false},
		{"x/tmp", true, false},
		{"build", true, true},
		{"x/build", true, true},
		{"build", false, false},
		// A trailing /** ignores the contents, not the directory.
		{"gen", true, false},
		{"gen/x.go", false, true},
		{"gen/x", true, true},
		// Escapes, trailing blanks, CRLF.
		{"#literal", false, true},
		{"!bang", false, true},
		{"trailing", false, true},
		{"escaped ", false, true},
		{"escaped", false, false},
		{"crlf.txt", false, true},
		// A slash in the middle anchors too; * stays in its segment.
		{"doc/a.md", false, true},
		{"doc/x/a.md", false, false},
		{"x/doc/a.md", false, false},
		// Leading and middle **.
		{"cache", true, true},
		{"x/y/cache", true, true},
		{"a/z", false, true},
		{"a/b/c/z", false, true},
		{"b/a/z", false, false},
		// Classes.
		{"bin", true, true},
		{"Bin", true, true},
		{"bin", false, false},
		// Nested .gitignore: relative to its own directory, and it wins.
		{"sub/a.out", false, true},
		{"a.out", false, false},
		{"sub/local.out", false, false},
		{"sub/x/local.out", false, true},
		{"sub/only-here", false, true},
		{"only-here", false, false},
		{"sub/app.log", false, false},
		{"sub/x/app.log", false, false},
		// Options.Ignore come last and win.
		{"sub/file.bak", false, true},
		{"gen/keep", false, false},
		// Defaults, which no ! pattern re-includes.
		{".git", true, true},
		{"node_modules", true, true},
		{"x/node_modules", true, true},
		{".ganger", true, true},
		{"a.swp", false, true},
		{"x/.main.go.swp", false, true},
		{"main.go.swo", false, true},
		{"main.go~", false, true},
		{".#main.go", false, true},
		{"#main.go#", false, true},
		{"4913", false, true},
		{"x/4913", false, true},
		{"49130", false, false},
		// A path inside an ignored directory is ignored.
		{"tmp/x.go", false, true},
		{"build/x/y.go", false, true},
		{"node_modules/x/index.js", false, true},
	}
	for _, tt := range tests {
		if got := ig.ignoredPath(tt.path, tt.isDir); got != tt.want {
			t.Errorf("ignored(%q, dir=%v) = %v, want %v", tt.path, tt.isDir, got, tt.want)
		}
	}
}

func TestParseIgnoreErrors(t *testing.T) {
	rules, errs := parseIgnore([]byte("*.log\n\n[abc\nfoo/\n"), "sub/.gitignore")
	if len(rules) != 2 {
		t.Errorf("got %d rules, want 2 (the bad line skipped)", len(rules))
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "sub/.gitignore:3: ") {
		t.Errorf("errors = %v, want one naming sub/.gitignore:3", errs)
	}
}

func TestNewIgnorerBadPattern(t *testing.T) {
	if _, err := newIgnorer([]string{"ok/", "[x"}); err == nil || !strings.Contains(err.Error(), `"[x"`) {
		t.Errorf("newIgnorer = %v, want an error naming the pattern", err)
	}
}

// FuzzIgnore checks that no .gitignore text and no path make the matcher
// panic, and that a path is never both ignored and, under the same rules,
// re-included by a later "!" of the very same pattern.
func FuzzIgnore(f *testing.F) {
	f.Add(rootIgnore, "x/app.log", false)
	f.Add(subIgnore, "sub/local.out", true)
	f.Add("**/**/**\n!a/**/b\n[!x]?/\n", "a/q/b", true)
	f.Add("\\\n[\n!\n/\n", "a", false)
	f.Fuzz(func(t *testing.T, text, rel string, isDir bool) {
		rel = strings.Trim(path.Clean("/"+rel), "/")
		// ignoredPath, a test helper, is quadratic in the depth; real
		// paths are shallow.
		if rel == "" || strings.Count(rel, "/") > 64 || len(text) > 8192 {
			return
		}
		ig, err := newIgnorer(nil)
		if err != nil {
			t.Fatal(err)
		}
		rules, _ := parseIgnore([]byte(text), ".gitignore")
		ig.files[""] = rules
		ig.ignoredPath(rel, isDir)
		// Appending "!" + every line re-includes whatever they ignored,
		// unless a parent directory or a default is ignored.
		var neg strings.Builder
		neg.WriteString(text + "\n")
		for _, line := range strings.Split(text, "\n") {
			if line != "" && line[0] != '#' && line[0] != '!' {
				neg.WriteString("!" + line + "\n")
			}
		}
		rules, _ = parseIgnore([]byte(neg.String()), ".gitignore")
		ig.files[""] = rules
		if ig.ignored(rel, isDir) {
			ig.files = map[string][]rule{}
			if !ig.ignored(rel, isDir) {
				t.Fatalf("%q ignored by %q even after negating every line", rel, neg.String())
			}
		}
	})
}
