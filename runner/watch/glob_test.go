package watch

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		// ** at the start: any depth, zero included.
		{"**/*.go", "main.go", true},
		{"**/*.go", "cmd/web/main.go", true},
		{"**/*.go", "main.go.orig", false},
		{"**/*.go", "go", false},
		// ** at the end: the directory and everything below.
		{"worker/**", "worker", true},
		{"worker/**", "worker/main.rb", true},
		{"worker/**", "worker/jobs/mail.rb", true},
		{"worker/**", "workers/main.rb", false},
		{"worker/**", "app/worker/main.rb", false},
		// ** in the middle: zero or more directories.
		{"app/**/views/*.erb", "app/views/index.erb", true},
		{"app/**/views/*.erb", "app/admin/x/views/index.erb", true},
		{"app/**/views/*.erb", "app/admin/views/sub/index.erb", false},
		{"a/**/**/b", "a/b", true},
		{"a/**/**/b", "a/x/y/z/b", true},
		{"**", "anything/at/all", true},
		// Anchored: a pattern without ** does not cross directories.
		{"*.go", "main.go", true},
		{"*.go", "cmd/main.go", false},
		{"cmd/*.go", "cmd/main.go", true},
		{"cmd/*.go", "cmd/web/main.go", false},
		{"Procfile", "Procfile", true},
		{"Procfile", "sub/Procfile", false},
		// * within a segment, dot files included; ** inside a segment is *.
		{"*", ".env", true},
		{"a**b", "axyzb", true},
		{"a**b", "ax/yb", false},
		// ?, classes, negated classes both ways, escapes.
		{"file?.txt", "file1.txt", true},
		{"file?.txt", "file10.txt", false},
		{"[a-c].go", "b.go", true},
		{"[a-c].go", "d.go", false},
		{"[!a-c].go", "d.go", true},
		{"[!a-c].go", "a.go", false},
		{"[^a-c].go", "d.go", true},
		{`\*.go`, "*.go", true},
		{`\*.go`, "x.go", false},
		{`[\!]x`, "!x", true},
		// Leading ./ or / and trailing / are dropped; // is /.
		{"./src/*.go", "src/a.go", true},
		{"/src/*.go", "src/a.go", true},
		{"src/", "src", true},
		{"src//a.go", "src/a.go", true},
		// Malformed patterns match nothing.
		{"[", "[", false},
		{`a\`, `a\`, false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestCheckGlob(t *testing.T) {
	for _, p := range []string{"**/*.go", "worker/**", "[a-z]*", `\[`, ""} {
		if err := CheckGlob(p); err != nil {
			t.Errorf("CheckGlob(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"[", "src/[a-", `x\`} {
		err := CheckGlob(p)
		if err == nil || !strings.Contains(err.Error(), "bad glob") {
			t.Errorf("CheckGlob(%q) = %v, want a bad glob error", p, err)
		}
	}
}

// FuzzMatch checks that no pattern or path makes Match panic or hang, and
// that a pattern without metacharacters matches itself.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"**/*.go", "cmd/main.go"}, {"worker/**", "worker"}, {"[!a-c]?", "dx"},
		{"a/**/b/**/c/**/d", "a/x/b/y/c/z/d"}, {`\[x`, "[x"}, {"[", "["}, {"", ""},
		{"**/**/**/**/**/**/**/**/x", strings.Repeat("a/", 40) + "y"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := Match(pattern, name)
		if CheckGlob(pattern) != nil && got {
			t.Fatalf("malformed %q matched %q", pattern, name)
		}
		lit := trimGlob(pattern)
		if lit != "" && lit != "." && !strings.ContainsAny(lit, `*?[\`) && !strings.Contains(lit, "//") && !strings.HasPrefix(lit, "./") {
			if !Match(pattern, lit) {
				t.Fatalf("literal %q does not match %q", pattern, lit)
			}
		}
	})
}
