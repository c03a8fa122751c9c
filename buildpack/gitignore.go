package buildpack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// gitignoreRule is one compiled .gitignore pattern.
type gitignoreRule struct {
	// name is set when the pattern has no "/" (other than a trailing
	// one): it is matched against the last component, at any depth below
	// the .gitignore.
	name string
	// segs is set otherwise: the pattern is anchored at the directory of
	// its .gitignore and matched component by component, "**" standing
	// for any number of components.
	segs    []string
	negate  bool // "!pattern" re-includes
	dirOnly bool // "pattern/" matches directories only
}

func (r *gitignoreRule) match(parts []string, isDir bool) bool {
	if r.dirOnly && !isDir {
		return false
	}
	if r.segs == nil {
		ok, _ := path.Match(r.name, parts[len(parts)-1]) // validated when parsed
		return ok
	}
	return matchSegs(r.segs, parts)
}

// parseGitignoreLine compiles one line of a .gitignore, as gitignore(5)
// reads it. ok is false for blank lines and comments.
func parseGitignoreLine(line string) (r gitignoreRule, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	if line == "" || line[0] == '#' {
		return r, false, nil
	}
	// Trailing blanks are dropped unless escaped ("foo\ ").
	for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, `\ `) {
		line = line[:len(line)-1]
	}
	if line == "" {
		return r, false, nil
	}
	if line[0] == '!' {
		r.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return r, false, nil // "/", "!" and the like match nothing
	}
	if !strings.Contains(line, "/") {
		r.name = gitClasses(line)
		if _, err := path.Match(r.name, ""); err != nil {
			return r, false, fmt.Errorf("bad pattern %q: %w", line, err)
		}
		return r, true, nil
	}
	// A "/" at the start or in the middle anchors the pattern at the
	// directory of the .gitignore.
	for _, s := range strings.Split(strings.TrimLeft(line, "/"), "/") {
		if s == "" {
			continue // "a//b" is "a/b"
		}
		s = gitClasses(s)
		if s != "**" {
			if _, err := path.Match(s, ""); err != nil {
				return r, false, fmt.Errorf("bad pattern %q: %w", line, err)
			}
		}
		r.segs = append(r.segs, s)
	}
	if len(r.segs) == 0 {
		return r, false, nil
	}
	// A trailing "/**" matches everything inside but not the directory
	// itself: at least one more component.
	if r.segs[len(r.segs)-1] == "**" && len(r.segs) > 1 {
		r.segs = append(r.segs[:len(r.segs)-1], "*", "**")
	}
	return r, true, nil
}

// gitClasses turns the gitignore class negation "[!" into the "[^" that
// path.Match understands, outside escapes.
func gitClasses(s string) string {
	if !strings.Contains(s, "[!") {
		return s
	}
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '[':
			if i+1 < len(b) && b[i+1] == '!' {
				b[i+1] = '^'
			}
			for i++; i < len(b) && b[i] != ']'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return string(b)
}

// parseGitignore compiles a .gitignore. A bad pattern is skipped and
// reported as a warning naming NAME:LINE; the other rules still apply.
func parseGitignore(data []byte, name string) ([]gitignoreRule, []string) {
	var rules []gitignoreRule
	var warnings []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1) // no line-length limit
	for n := 1; sc.Scan(); n++ {
		r, ok, err := parseGitignoreLine(sc.Text())
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s:%d: %v; the pattern is skipped", name, n, err))
			continue
		}
		if ok {
			rules = append(rules, r)
		}
	}
	return rules, warnings
}

// gitignoreTree applies the .gitignore files of a directory tree the way
// git does, for an app that is not in a git repository: the .gitignore of
// each directory applies to what is below it, a deeper file and a later
// line winning, "!" re-including. It is asked about each path top-down,
// parents first (a path inside an ignored directory is never asked about:
// git cannot re-include it either), and reads each directory's .gitignore
// the first time it is asked about something in that directory. It is
// used by one goroutine.
type gitignoreTree struct {
	root     string
	rules    map[string][]gitignoreRule // by slash-separated directory, "" for the root
	warnings []string
}

func newGitignoreTree(root string) *gitignoreTree {
	return &gitignoreTree{root: root, rules: map[string][]gitignoreRule{}}
}

// load reads the .gitignore of dir (relative, slash-separated) once.
func (g *gitignoreTree) load(dir string) []gitignoreRule {
	if rules, ok := g.rules[dir]; ok {
		return rules
	}
	name := path.Join(dir, ".gitignore")
	p := filepath.Join(g.root, filepath.FromSlash(name))
	var rules []gitignoreRule
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		g.warnings = append(g.warnings, fmt.Sprintf("%s: %v; its patterns are not applied", name, err))
	case fi.Mode().IsRegular():
		data, err := os.ReadFile(p)
		if err != nil {
			g.warnings = append(g.warnings, fmt.Sprintf("%s: %v; its patterns are not applied", name, err))
			break
		}
		var w []string
		rules, w = parseGitignore(data, name)
		g.warnings = append(g.warnings, w...)
	}
	if rules == nil {
		rules = []gitignoreRule{}
	}
	g.rules[dir] = rules
	return rules
}

// ignored reports whether rel (slash-separated, relative to the root, not
// empty) is ignored, its parent directories being known not to be.
func (g *gitignoreTree) ignored(rel string, isDir bool) bool {
	parts := strings.Split(rel, "/")
	ignored := false
	for k := range parts {
		// The .gitignore of the directory parts[:k] sees parts[k:].
		for _, r := range g.load(strings.Join(parts[:k], "/")) {
			if r.match(parts[k:], isDir) {
				ignored = !r.negate
			}
		}
	}
	return ignored
}
