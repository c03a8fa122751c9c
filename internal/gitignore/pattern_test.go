package gitignore

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// patternTests are pattern files (one .gitignore at the root) with paths
// they must and must not ignore: "path" for a file, "path/" for a
// directory. A path is ignored when a parent directory is, as git has it.
// Every row with the zero Options is checked against git itself by
// TestPatternsAgainstGit, except the few marked notGit.
var patternTests = []struct {
	name    string
	file    string
	opt     Options
	matches []string
	misses  []string
	notGit  string // why git answers otherwise, for a row git disagrees with
}{
	// Unanchored: the last segment, at any depth.
	{name: "name anywhere", file: "*.log\n", matches: []string{"a.log", "x/y/b.log", "d.log/", "x/app.log"}, misses: []string{"a.logx", "log"}},
	{name: "exact name", file: "4913\n", matches: []string{"4913", "x/4913"}, misses: []string{"49130"}},
	{name: "dot files", file: "*~\n.#*\n", matches: []string{"main.go~", ".#main.go", "x/.#a"}, misses: []string{"main.go"}},
	// Anchoring: a "/" at the start or in the middle.
	{name: "anchored", file: "/tmp\n", matches: []string{"tmp", "tmp/", "tmp/x.go"}, misses: []string{"x/tmp", "tmpx"}},
	{name: "anchored dir", file: "/tmp/\n", matches: []string{"tmp/", "tmp/x.go"}, misses: []string{"tmp", "x/tmp/"}},
	{name: "middle slash anchors", file: "docs/*.md\n", matches: []string{"docs/a.md"}, misses: []string{"x/docs/a.md", "docs/s/a.md", "a.md"}},
	// Directories only.
	{name: "dir only", file: "cache/\n", matches: []string{"cache/", "x/cache/", "cache/f"}, misses: []string{"cache", "x/cache"}},
	{name: "dir only anchored by middle slash", file: "a/b/\n", matches: []string{"a/b/"}, misses: []string{"a/b", "x/a/b/"}},
	{name: "class dir", file: "[Bb]in/\n", matches: []string{"bin/", "Bin/"}, misses: []string{"bin", "pin/"}},
	// **.
	{name: "leading double star", file: "**/foo\n", matches: []string{"foo", "a/b/foo/", "a/foo"}, misses: []string{"foox", "a/foox"}},
	{name: "leading double star dir", file: "**/cache/\n", matches: []string{"cache/", "x/y/cache/"}, misses: []string{"cache"}},
	{name: "trailing double star", file: "abc/**\n", matches: []string{"abc/x", "abc/x/y", "abc/x/"}, misses: []string{"abc", "abc/", "x/abc/y"}},
	{name: "middle double star", file: "a/**/b\n", matches: []string{"a/b", "a/x/b", "a/x/y/b"}, misses: []string{"x/a/b", "a/bb"}},
	{name: "middle double star name", file: "docs/**/*.tmp\n", matches: []string{"docs/a.tmp", "docs/x/y/a.tmp"}, misses: []string{"x/docs/a.tmp", "docs/a.tmpx"}},
	{name: "double stars", file: "**/**\n", matches: []string{"a", "a/b/"}},
	{name: "root double star", file: "/**\n", matches: []string{"x", "x/y/"}},
	{name: "lone double star", file: "**\n", matches: []string{"x", "x/y"}},
	{name: "stars inside a segment", file: "a**b\n", matches: []string{"axyzb", "d/ab"}, misses: []string{"axy"}},
	{name: "double star glued", file: "a/**b\n", matches: []string{"a/xb"}, misses: []string{"a/x/yb"}},
	// Negation and order.
	{name: "negation", file: "*.txt\n!keep.txt\n", matches: []string{"a.txt"}, misses: []string{"keep.txt", "d/keep.txt"}},
	{name: "later line wins", file: "!keep.txt\n*.txt\n", matches: []string{"keep.txt"}},
	{name: "negated dir", file: "*\n!/keep/\n", matches: []string{"a", "keep"}, misses: []string{"keep/"}},
	{name: "inside an ignored dir", file: "build/\n!build/keep\n", matches: []string{"build/", "build/keep"}},
	// Classes.
	{name: "class", file: "[ab].txt\n", matches: []string{"a.txt", "b.txt"}, misses: []string{"c.txt"}},
	{name: "class negation", file: "[!a].txt\n", matches: []string{"b.txt", "!.txt"}, misses: []string{"a.txt"}},
	{name: "class negation caret", file: "[^a].txt\n", matches: []string{"b.txt"}, misses: []string{"a.txt"}},
	{name: "question mark", file: "file?.txt\n", matches: []string{"file1.txt"}, misses: []string{"file10.txt", "file.txt"}},
	// Escapes, blanks, comments, line ends.
	{name: "escapes", file: "\\#x\n\\!y\nz\\ \n\\*.go\n", matches: []string{"#x", "!y", "z ", "*.go"}, misses: []string{"z", "x.go"}},
	{name: "trailing blanks", file: "foo   \n", matches: []string{"foo"}, misses: []string{"foo "}},
	{name: "escaped then plain blank", file: "bar\\  \n", matches: []string{"bar "}, misses: []string{"bar", "bar  "}},
	{name: "escaped backslash then blank", file: "foo\\\\ \n", matches: []string{`foo\`}, misses: []string{`foo\ `}},
	{name: "tabs are kept", file: "tab\t\n", matches: []string{"tab\t"}, misses: []string{"tab"}},
	{name: "leading blanks are kept", file: "  sp\n", matches: []string{"  sp"}, misses: []string{"sp"}},
	{name: "comments and blanks", file: "# c\n\n   \n", misses: []string{"# c", "c", "   "}},
	{name: "crlf", file: "a\r\nb\r\n", matches: []string{"a", "b"}},
	{name: "no final newline", file: "a\nb", matches: []string{"a", "b"}},
	{name: "nothing", file: "/\n!\n//\n", misses: []string{"a", "a/"}},
	// An empty segment in the middle: git compares the pattern with the
	// path, which has none, so it matches nothing.
	{name: "empty middle segment", file: "a//b\nc/**//d\n", misses: []string{"a/b", "c/x/d"}},
	// Leading and trailing runs of "/" are dropped, as ganger always has;
	// git strips one and then matches nothing.
	{name: "leading slashes", file: "//a\n", matches: []string{"a"}, notGit: `git: "//a" matches nothing`},
	{name: "trailing slashes", file: "x/a//\n", matches: []string{"x/a/"}, notGit: `git: "x/a//" matches nothing`},

	// Options.StarStarDir, as .slugignore reads a trailing "/**".
	{name: "star star dir", file: "vendor/**\n", opt: Options{StarStarDir: true}, matches: []string{"vendor", "vendor/", "vendor/x", "vendor/x/y"}, misses: []string{"x/vendor/y", "vendorx"}},
	{name: "star star dir leading", file: "**/test\n", opt: Options{StarStarDir: true}, matches: []string{"test", "a/test", "a/b/test/"}, misses: []string{"a/tests"}},
	{name: "star star dir middle", file: "a/**/z\n", opt: Options{StarStarDir: true}, matches: []string{"a/z", "a/b/z", "a/b/c/z"}, misses: []string{"b/a/z", "a/zz"}},
}

// ignoredPath answers for rel as git does: ignored when a parent directory
// is, else as the patterns say.
func ignoredPath(ps []Pattern, rel string, isDir bool) bool {
	lists := func(dir string) []Pattern {
		if dir == "" {
			return ps
		}
		return nil
	}
	for i := range len(rel) {
		if rel[i] == '/' && Cascade(rel[:i], true, lists) {
			return true
		}
	}
	return Cascade(rel, isDir, lists)
}

// eachPath calls f with each path of matches (want true) and of misses
// (want false), a trailing "/" marking a directory.
func eachPath(matches, misses []string, f func(rel string, isDir, want bool)) {
	for _, p := range matches {
		f(strings.TrimSuffix(p, "/"), strings.HasSuffix(p, "/"), true)
	}
	for _, p := range misses {
		f(strings.TrimSuffix(p, "/"), strings.HasSuffix(p, "/"), false)
	}
}

func parseWith(t *testing.T, file string, opt Options) []Pattern {
	t.Helper()
	var ps []Pattern
	for line := range strings.Lines(file) {
		p, ok, err := ParseLine(strings.TrimSuffix(line, "\n"), opt)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			ps = append(ps, p)
		}
	}
	return ps
}

func TestPatterns(t *testing.T) {
	for _, tc := range patternTests {
		t.Run(tc.name, func(t *testing.T) {
			ps := parseWith(t, tc.file, tc.opt)
			if tc.opt == (Options{}) {
				parsed, errs := Parse([]byte(tc.file), ".gitignore")
				if len(errs) > 0 || len(parsed) != len(ps) {
					t.Fatalf("Parse gave %d patterns and %v, ParseLine %d", len(parsed), errs, len(ps))
				}
			}
			eachPath(tc.matches, tc.misses, func(rel string, isDir, want bool) {
				if got := ignoredPath(ps, rel, isDir); got != want {
					t.Errorf("%q (dir=%v): ignored = %v, want %v", rel, isDir, got, want)
				}
			})
		})
	}
}

// TestPatternsAgainstGit asks git check-ignore about every path of the
// gitignore rows of patternTests, so the table says what git does.
func TestPatternsAgainstGit(t *testing.T) {
	gitTool, err := exec.LookPath("git")
	if err != nil || runtime.GOOS == "windows" {
		t.Skip("needs git, and file names with blanks and backslashes")
	}
	if testing.Short() {
		t.Skip("runs git a hundred times")
	}
	home := t.TempDir()
	environ := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	git := func(dir string, args ...string) (string, error) {
		cmd := exec.Command(gitTool, args...)
		cmd.Dir, cmd.Env = dir, environ
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil && stderr.Len() > 0 {
			t.Fatalf("git %v: %v: %s", args, err, stderr.String())
		}
		return string(out), err
	}
	for _, tc := range patternTests {
		if tc.opt != (Options{}) || tc.notGit != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			eachPath(tc.matches, tc.misses, func(rel string, isDir, want bool) {
				repo := t.TempDir()
				if _, err := git(repo, "init", "-q"); err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(repo, ".gitignore"), tc.file)
				if isDir {
					if err := os.MkdirAll(filepath.Join(repo, rel), 0o755); err != nil {
						t.Fatal(err)
					}
				} else {
					write(t, filepath.Join(repo, rel), "")
				}
				_, err := git(repo, "check-ignore", "-q", "--no-index", "--", rel)
				if got := err == nil; got != want {
					t.Errorf("git check-ignore %q (dir=%v) = %v, want %v: the table is wrong about git", rel, isDir, got, want)
				}
			})
		})
	}
}

func write(t *testing.T, file, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCascade(t *testing.T) {
	lists := map[string][]Pattern{}
	for dir, text := range map[string]string{
		"":      "*.log\n!keep.log\n/tmp/\n",
		"sub":   "*.out\n!/local.out\n/only-here\n!app.log\n",
		"sub/x": "!*.out\n",
	} {
		ps, errs := Parse([]byte(text), dir+"/.gitignore")
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		lists[dir] = ps
	}
	matches := []string{
		"app.log", "tmp/",
		// Each list is relative to its own directory, and a deeper one wins.
		"sub/a.out", "sub/y/local.out", "sub/only-here",
	}
	misses := []string{
		"keep.log", "sub/tmp/", "a.out", "sub/local.out", "only-here",
		"sub/app.log", "sub/y/app.log", "sub/x/a.out", "sub/x/y/a.out",
	}
	eachPath(matches, misses, func(rel string, isDir, want bool) {
		if got := Cascade(rel, isDir, func(dir string) []Pattern { return lists[dir] }); got != want {
			t.Errorf("Cascade(%q, dir=%v) = %v, want %v", rel, isDir, got, want)
		}
	})
}

func TestParseErrors(t *testing.T) {
	ps, errs := Parse([]byte("*.log\n\n[abc\nfoo/\n!a/[x/b\n"), "sub/.gitignore")
	if len(ps) != 2 {
		t.Errorf("got %d patterns, want 2 (the bad lines skipped)", len(ps))
	}
	want := []string{
		`sub/.gitignore:3: bad pattern "[abc": syntax error in pattern (close every "[" and do not end with "\"); the pattern is skipped`,
		`sub/.gitignore:5: bad pattern "!a/[x/b": syntax error in pattern (close every "[" and do not end with "\"); the pattern is skipped`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors = %v, want %d", errs, len(want))
	}
	for i, err := range errs {
		if err.Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, err, want[i])
		}
	}
	// A bad segment is reported even where the pattern would match nothing.
	if _, _, err := ParseLine("a//[", Options{}); err == nil {
		t.Error(`ParseLine("a//[") = nil error`)
	}
}

func TestTrimTrailingSpaces(t *testing.T) {
	for in, want := range map[string]string{
		"a":         "a",
		"a  ":       "a",
		`a\ `:       `a\ `,
		`a\  `:      `a\ `,
		`a\\ `:      `a\\`,
		`a\\\ `:     `a\\\ `,
		"a\t ":      "a\t",
		`a\`:        `a\`,
		"   ":       "",
		`a \ b  `:   `a \ b`,
		"\\ \\ \\ ": "\\ \\ \\ ",
	} {
		if got := trimTrailingSpaces(in); got != want {
			t.Errorf("trimTrailingSpaces(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestZeroPattern(t *testing.T) {
	var p Pattern
	if p.Match([]string{"a"}, false) || p.Match([]string{"a"}, true) || p.Match(nil, true) {
		t.Error("the zero Pattern matched")
	}
}

// FuzzParseLine: no line makes the parser or the matcher panic or hang; a
// line followed by its negation ignores nothing; and a plain name matches
// itself at any depth.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"*.log", "!keep.log", "/tmp/", "a/**/b", "**/**/**", "[!x]?/", `\#x`, `foo\\ `, "a//b", "[", `x\`, "!", "/", "vendor/**"} {
		f.Add(s, "a/b/c.log", false, false)
	}
	f.Fuzz(func(t *testing.T, line, rel string, isDir, starStarDir bool) {
		opt := Options{StarStarDir: starStarDir}
		p, ok, err := ParseLine(line, opt)
		segs := strings.Split(rel, "/")
		if err != nil || !ok {
			if p.Match(segs, isDir) {
				t.Fatalf("%q matched %q though ok=%v err=%v", line, rel, ok, err)
			}
			return
		}
		p.Match(segs, isDir)
		if line != "" && line[0] != '!' {
			n, ok, err := ParseLine("!"+line, opt)
			if err != nil || !ok {
				t.Fatalf("%q parsed but its negation did not: %v", line, err)
			}
			if Apply([]Pattern{p, n}, segs, isDir, false) {
				t.Fatalf("%q then its negation ignore %q", line, rel)
			}
		}
		name := line
		if name == "" || strings.ContainsAny(name, "/*?[]\\\r") || name[0] == '#' || name[0] == '!' || strings.HasSuffix(name, " ") {
			return
		}
		if !p.Match([]string{"x", name}, false) || !p.Match([]string{name}, true) {
			t.Fatalf("%q does not match itself", name)
		}
	})
}
