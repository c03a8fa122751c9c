package watch

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// defaultIgnores are always ignored and cannot be re-included by a "!"
// pattern: VCS metadata, dependency trees, ganger's own state and the
// temporary files editors write next to the file being saved (vim swap files
// and its "4913" write test, backup "~" files, emacs lock ".#x" and autosave
// "#x#" files).
var defaultIgnores = [...]string{
	".git", "node_modules", ".ganger",
	"*.swp", "*.swo", "*.swx", "*~", ".#*", `\#*#`, "4913",
}

// DefaultIgnores returns the patterns (gitignore syntax) that are ignored
// whatever the options and .gitignore files say.
func DefaultIgnores() []string { return append([]string(nil), defaultIgnores[:]...) }

// rule is one compiled gitignore pattern.
type rule struct {
	// name is set when the pattern had no slash: it is matched against the
	// last path segment, at any depth below the .gitignore.
	name string
	// segs is set otherwise: the pattern is anchored at the directory of
	// its .gitignore and matched segment by segment.
	segs    []string
	negate  bool // "!pattern" re-includes
	dirOnly bool // "pattern/" matches directories only
}

func (r *rule) match(segs []string, isDir bool) bool {
	if r.dirOnly && !isDir {
		return false
	}
	if r.segs == nil {
		return segMatch(r.name, segs[len(segs)-1])
	}
	return matchSegs(r.segs, segs)
}

// parseRule compiles one gitignore line. ok is false for blank lines and
// comments.
func parseRule(line string) (r rule, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	if line == "" || line[0] == '#' {
		return rule{}, false, nil
	}
	// Trailing blanks are dropped unless escaped ("foo\ ").
	for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, `\ `) {
		line = line[:len(line)-1]
	}
	if line == "" {
		return rule{}, false, nil
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
		return rule{}, false, nil // "/", "!" and the like match nothing
	}
	if !strings.Contains(line, "/") {
		r.name = negateClasses(line)
		if r.name != "**" {
			if err := CheckGlob(r.name); err != nil {
				return rule{}, false, err
			}
		}
		return r, true, nil
	}
	// A slash at the start or in the middle anchors the pattern at the
	// directory of the .gitignore.
	segs, err := compileGlob(strings.TrimLeft(line, "/"))
	if err != nil {
		return rule{}, false, err
	}
	if len(segs) == 0 {
		return rule{}, false, nil
	}
	// A trailing "/**" matches everything inside but not the directory
	// itself: require at least one more segment.
	if segs[len(segs)-1] == "**" {
		segs = append(segs[:len(segs)-1], "*", "**")
	}
	r.segs = segs
	return r, true, nil
}

// parseIgnore compiles the lines of a .gitignore. Bad patterns are skipped
// and reported as errors naming file:line; the other rules still apply.
func parseIgnore(data []byte, file string) ([]rule, []error) {
	var rules []rule
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1) // no line-length limit
	for n := 1; sc.Scan(); n++ {
		r, ok, err := parseRule(sc.Text())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w; the pattern is skipped", file, n, err))
			continue
		}
		if ok {
			rules = append(rules, r)
		}
	}
	return rules, errs
}

// ignorer decides which paths are ignored. It is owned by the Watcher's
// owner goroutine.
type ignorer struct {
	defaults []rule
	// files holds the rules of each .gitignore, by the slash-separated
	// directory that holds it ("" for the root).
	files map[string][]rule
	// extra are the Options.Ignore patterns, relative to the root; they come
	// last, so they win over the .gitignore files.
	extra []rule
}

func newIgnorer(extra []string) (*ignorer, error) {
	ig := &ignorer{files: make(map[string][]rule)}
	for _, p := range defaultIgnores {
		r, _, err := parseRule(p)
		if err != nil {
			return nil, fmt.Errorf("default ignore %q: %w", p, err) // a bug
		}
		ig.defaults = append(ig.defaults, r)
	}
	for _, p := range extra {
		r, ok, err := parseRule(p)
		if err != nil {
			return nil, fmt.Errorf("ignore pattern %q: %w", p, err)
		}
		if ok {
			ig.extra = append(ig.extra, r)
		}
	}
	return ig, nil
}

// ignored reports whether rel (slash-separated, relative to the root, not
// empty) is ignored. Its parent directories are assumed not to be: the
// watcher never looks inside an ignored directory, as git does not.
//
// The last matching rule wins, reading the .gitignore files from the root
// down, then the extra patterns; the default ignores win over everything.
func (ig *ignorer) ignored(rel string, isDir bool) bool {
	segs := strings.Split(rel, "/")
	for i := range ig.defaults {
		if ig.defaults[i].match(segs, isDir) {
			return true
		}
	}
	ignored := false
	if len(ig.files) > 0 {
		end := 0 // rel[:end] is the directory holding segs[k:]
		for k := range segs {
			for i, rules := 0, ig.files[rel[:end]]; i < len(rules); i++ {
				if rules[i].match(segs[k:], isDir) {
					ignored = !rules[i].negate
				}
			}
			if k == 0 {
				end = len(segs[0])
			} else {
				end += 1 + len(segs[k])
			}
		}
	}
	for i := range ig.extra {
		if ig.extra[i].match(segs, isDir) {
			ignored = !ig.extra[i].negate
		}
	}
	return ignored
}

// ignoredPath is ignored applied to every prefix of rel, the full gitignore
// answer for a path whose parents have not been checked.
func (ig *ignorer) ignoredPath(rel string, isDir bool) bool {
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' && ig.ignored(rel[:i], true) {
			return true
		}
	}
	return ig.ignored(rel, isDir)
}
