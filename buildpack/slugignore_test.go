package buildpack

import (
	"strings"
	"testing"
)

func TestSlugIgnore(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		matches  []string // "path" for a file, "path/" for a directory
		misses   []string
		warnings int
		err      string
	}{
		{name: "name anywhere", file: "*.log\n", matches: []string{"a.log", "x/y/b.log", "logs.log/"}, misses: []string{"a.logx", "log"}},
		{name: "anchored", file: "/tmp\n", matches: []string{"tmp", "tmp/"}, misses: []string{"x/tmp", "tmpx"}},
		{name: "with slash", file: "docs/*.md\n", matches: []string{"docs/a.md"}, misses: []string{"x/docs/a.md", "docs/sub/a.md", "a.md"}},
		{name: "dir only", file: "cache/\n", matches: []string{"cache/", "x/cache/"}, misses: []string{"cache", "x/cache"}},
		{name: "double star prefix", file: "**/test\n", matches: []string{"test", "a/test", "a/b/test/"}, misses: []string{"a/tests"}},
		{name: "double star middle", file: "a/**/z\n", matches: []string{"a/z", "a/b/z", "a/b/c/z"}, misses: []string{"b/a/z", "a/zz"}},
		{name: "double star suffix", file: "vendor/**\n", matches: []string{"vendor/x", "vendor/x/y"}, misses: []string{"x/vendor/y"}},
		{name: "comments blanks crlf", file: "# c\r\n\r\n  spec  \r\n", matches: []string{"spec", "a/spec/"}, misses: []string{"# c", "specs"}},
		{name: "escaped hash", file: "\\#notes\n", matches: []string{"#notes"}},
		{name: "negation ignored", file: "*.txt\n!keep.txt\n", matches: []string{"keep.txt"}, warnings: 1},
		{name: "char class", file: "[ab].txt\n", matches: []string{"a.txt", "b.txt"}, misses: []string{"c.txt"}},
		{name: "negated char class", file: "[!a].txt\n", matches: []string{"b.txt", "!.txt"}, misses: []string{"a.txt"}},
		{name: "double star suffix takes the dir", file: "vendor/**\n", matches: []string{"vendor/", "vendor"}},
		{name: "empty segment matches nothing", file: "a//b\n", misses: []string{"a/b", "a/b/"}},
		{name: "bad pattern", file: "ok\n[z\n", err: ".slugignore:2: bad pattern"},
		{name: "empty", file: "", misses: []string{"a", "b/"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ig, warnings, err := parseSlugIgnore(strings.NewReader(tc.file), ".slugignore")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != tc.warnings {
				t.Errorf("warnings = %q", warnings)
			}
			check := func(p string, want bool) {
				isDir := strings.HasSuffix(p, "/")
				if got := ig.match(strings.TrimSuffix(p, "/"), isDir); got != want {
					t.Errorf("match(%q) = %v, want %v", p, got, want)
				}
			}
			for _, p := range tc.matches {
				check(p, true)
			}
			for _, p := range tc.misses {
				check(p, false)
			}
		})
	}
}

// FuzzSlugIgnore: parsing and matching never panic, and a literal name
// pattern always matches that name.
func FuzzSlugIgnore(f *testing.F) {
	for _, s := range []string{"*.log\n/tmp\nvendor/**\n", "!x\n\\#y\n", "[", "a/**/b/"} {
		f.Add(s, "a/b/c.log")
	}
	f.Fuzz(func(t *testing.T, file, p string) {
		ig, _, err := parseSlugIgnore(strings.NewReader(file), ".slugignore")
		if err == nil {
			ig.match(p, false)
			ig.match(p, true)
		}
		name := strings.TrimSpace(p)
		if name == "" || strings.ContainsAny(name, "/*?[]\\!#\r\n\t ") {
			return
		}
		ig, _, err = parseSlugIgnore(strings.NewReader(name+"\n"), ".slugignore")
		if err != nil || !ig.match("x/"+name, false) {
			t.Fatalf("%q does not match itself: %v", name, err)
		}
	})
}
