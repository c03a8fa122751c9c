package buildpack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/gangerdev/ganger/internal/gitignore"
)

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
	rules    map[string][]gitignore.Pattern // by slash-separated directory, "" for the root
	warnings []string
}

func newGitignoreTree(root string) *gitignoreTree {
	return &gitignoreTree{root: root, rules: map[string][]gitignore.Pattern{}}
}

// load reads the .gitignore of dir (relative, slash-separated) once.
func (g *gitignoreTree) load(dir string) []gitignore.Pattern {
	if rules, ok := g.rules[dir]; ok {
		return rules
	}
	name := path.Join(dir, ".gitignore")
	p := filepath.Join(g.root, filepath.FromSlash(name))
	var rules []gitignore.Pattern
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
		// A bad pattern is skipped, with a warning naming NAME:LINE; the
		// other rules still apply.
		var errs []error
		rules, errs = gitignore.Parse(data, name)
		for _, err := range errs {
			g.warnings = append(g.warnings, err.Error())
		}
	}
	if rules == nil {
		rules = []gitignore.Pattern{}
	}
	g.rules[dir] = rules
	return rules
}

// ignored reports whether rel (slash-separated, relative to the root, not
// empty) is ignored, its parent directories being known not to be.
func (g *gitignoreTree) ignored(rel string, isDir bool) bool {
	return gitignore.Cascade(rel, isDir, g.load)
}
