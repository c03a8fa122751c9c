package gitignore

import (
	"bytes"
	"fmt"
	"strings"
)

// Pattern is one compiled pattern line. The zero Pattern matches nothing.
type Pattern struct {
	// name is set when the pattern has no "/" other than a trailing one:
	// it is matched against the last segment of a path, at any depth.
	name string
	// glob is used otherwise: the pattern is anchored at the directory of
	// its file and matched segment by segment.
	glob    Glob
	negate  bool // "!pattern" re-includes
	dirOnly bool // "pattern/" matches directories only
}

// Options adapt ParseLine to a dialect. The zero value reads a line as
// gitignore(5) does.
type Options struct {
	// StarStarDir makes a trailing "/**" match the directory itself as
	// well as everything inside it, so "vendor/**" matches "vendor" too,
	// as .slugignore reads it. In gitignore(5), "abc/**" matches
	// everything inside "abc" but not "abc".
	StarStarDir bool
}

// ParseLine compiles one pattern line. ok is false for a line that holds
// no pattern (blank, a comment, "/", "!") and for one that matches
// nothing, as git reads it: an empty segment in the middle ("a//b"). A
// malformed pattern (an unclosed "[" or a trailing "\") is an error
// quoting the line.
func ParseLine(line string, opt Options) (p Pattern, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	if line == "" || line[0] == '#' {
		return Pattern{}, false, nil
	}
	line = trimTrailingSpaces(line)
	if line == "" {
		return Pattern{}, false, nil
	}
	quoted := line
	if line[0] == '!' {
		p.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	if line == "" {
		return Pattern{}, false, nil
	}
	if !strings.Contains(line, "/") {
		p.name = negateClasses(line)
		if p.name != "**" {
			if err := checkSeg(p.name); err != nil {
				return Pattern{}, false, fmt.Errorf("bad pattern %q: %w%s", quoted, err, badHint)
			}
		}
		return p, true, nil
	}
	// A "/" at the start or in the middle anchors the pattern at the
	// directory of its file.
	line = strings.TrimLeft(line, "/")
	segs, err := splitGlob(line)
	if err != nil {
		return Pattern{}, false, fmt.Errorf("bad pattern %q: %w%s", quoted, err, badHint)
	}
	if strings.Contains(line, "//") {
		// git compares the pattern with the path, which has no empty
		// segment: "a//b" matches nothing.
		return Pattern{}, false, nil
	}
	// A trailing "/**" matches everything inside but not the directory
	// itself: at least one more segment.
	if !opt.StarStarDir && segs[len(segs)-1] == "**" {
		segs = append(segs[:len(segs)-1], "*", "**")
	}
	p.glob = Glob{segs: segs}
	return p, true, nil
}

// checkSeg checks one segment pattern.
func checkSeg(s string) error {
	_, err := splitGlob(s)
	return err
}

// trimTrailingSpaces drops the trailing spaces of line that a backslash
// does not escape, as git does: "a\ " keeps its space, "a\\ " (an escaped
// backslash) does not. Tabs are kept.
func trimTrailingSpaces(line string) string {
	lastSpace := -1 // the start of the run of trailing spaces
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ':
			if lastSpace < 0 {
				lastSpace = i
			}
		case '\\':
			i++
			if i == len(line) {
				return line
			}
			lastSpace = -1
		default:
			lastSpace = -1
		}
	}
	if lastSpace >= 0 {
		return line[:lastSpace]
	}
	return line
}

// Parse compiles the lines of a pattern file as gitignore(5) reads them.
// A malformed pattern is skipped and reported as an error naming
// file:line; the other patterns still apply.
func Parse(data []byte, file string) ([]Pattern, []error) {
	var ps []Pattern
	var errs []error
	n := 0
	for line := range bytes.Lines(data) {
		n++
		p, ok, err := ParseLine(string(bytes.TrimSuffix(line, []byte("\n"))), Options{})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w; the pattern is skipped", file, n, err))
			continue
		}
		if ok {
			ps = append(ps, p)
		}
	}
	return ps, errs
}

// Match reports whether the pattern matches a path given as its segments
// (split at "/", relative to the directory of the pattern's file, not
// empty), isDir saying whether it is a directory. A negated pattern
// matches as the same pattern without "!" does; Apply gives the answer.
func (p *Pattern) Match(segs []string, isDir bool) bool {
	if p.dirOnly && !isDir || len(segs) == 0 {
		return false
	}
	if p.glob.segs == nil {
		return p.name != "" && segMatch(p.name, segs[len(segs)-1])
	}
	return p.glob.Match(segs)
}

// Apply applies patterns in order to a path given as its segments, from
// the answer ignored: the last pattern that matches decides, a negated
// one re-including. It returns whether the path is ignored.
func Apply(patterns []Pattern, segs []string, isDir, ignored bool) bool {
	for i := range patterns {
		if patterns[i].Match(segs, isDir) {
			ignored = !patterns[i].negate
		}
	}
	return ignored
}

// Cascade reports whether rel (slash-separated, relative to the root of a
// tree, not empty) is ignored by the pattern lists of the tree's
// directories, applied as git applies .gitignore files: the list of each
// directory above rel, from the root ("") down ("a", then "a/b"), sees the
// rest of the path, and the last pattern that matches decides, so a deeper
// list wins. lists returns the patterns of a directory (nil for none).
//
// The parent directories of rel are taken not to be ignored: callers walk
// top-down and never look inside an ignored directory, as git does not.
func Cascade(rel string, isDir bool, lists func(dir string) []Pattern) bool {
	segs := strings.Split(rel, "/")
	ignored := false
	end := 0 // rel[:end] is the directory holding segs[k:]
	for k := range segs {
		ignored = Apply(lists(rel[:end]), segs[k:], isDir, ignored)
		if k > 0 {
			end++
		}
		end += len(segs[k])
	}
	return ignored
}
