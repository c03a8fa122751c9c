package watch

import (
	"fmt"
	"strings"

	"github.com/gangerdev/ganger/internal/gitignore"
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
type rule = gitignore.Pattern

// parseIgnore compiles the lines of a .gitignore. Bad patterns are skipped
// and reported as errors naming file:line; the other rules still apply.
func parseIgnore(data []byte, file string) ([]rule, []error) {
	return gitignore.Parse(data, file)
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
		r, _, err := gitignore.ParseLine(p, gitignore.Options{})
		if err != nil {
			return nil, fmt.Errorf("default ignore %q: %w", p, err) // a bug
		}
		ig.defaults = append(ig.defaults, r)
	}
	for _, p := range extra {
		r, ok, err := gitignore.ParseLine(p, gitignore.Options{})
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
		if ig.defaults[i].Match(segs, isDir) {
			return true
		}
	}
	ignored := len(ig.files) > 0 && gitignore.Cascade(rel, isDir, ig.rulesOf)
	return gitignore.Apply(ig.extra, segs, isDir, ignored)
}

// rulesOf returns the rules of dir's .gitignore.
func (ig *ignorer) rulesOf(dir string) []rule { return ig.files[dir] }

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
