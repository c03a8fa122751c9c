package gitignore

import (
	"fmt"
	"path"
	"strings"
)

// badHint follows the error of a malformed pattern.
const badHint = ` (close every "[" and do not end with "\")`

// Glob is a compiled glob: slash-separated segments matched one to one
// against the segments of a path, anchored at both ends. The zero Glob
// matches only the empty path.
type Glob struct {
	segs []string
}

// CompileGlob compiles pattern, a glob of segments separated by "/":
// "*" matches any run of characters within one segment (dot files
// included), "?" one character, "[a-z]" and "[!a-z]" (or "[^a-z]") a
// character class, "\x" the literal x; a segment that is exactly "**"
// matches zero or more whole segments ("**" inside a segment is "*").
// Empty segments are dropped: "a//b" is "a/b", "/a/" is "a". The error of
// a malformed pattern (an unclosed "[" or a trailing "\") says so.
func CompileGlob(pattern string) (Glob, error) {
	segs, err := splitGlob(pattern)
	if err != nil {
		return Glob{}, fmt.Errorf("bad glob %q: %w%s", pattern, err, badHint)
	}
	return Glob{segs: segs}, nil
}

// splitGlob splits pattern at "/", drops the empty segments, rewrites the
// class negation "[!" into the "[^" that path.Match understands and
// checks every segment.
func splitGlob(pattern string) ([]string, error) {
	var segs []string
	for s := range strings.SplitSeq(pattern, "/") {
		if s == "" {
			continue
		}
		s = negateClasses(s)
		if s != "**" {
			if _, err := path.Match(s, ""); err != nil {
				return nil, err
			}
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// negateClasses turns "[!" into "[^" outside escapes and classes.
func negateClasses(s string) string {
	if !strings.Contains(s, "[!") {
		return s
	}
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // skip the escaped byte
		case '[':
			if i+1 < len(b) && b[i+1] == '!' {
				b[i+1] = '^'
			}
			// Skip to the end of the class so a "[" inside it is literal.
			for i++; i < len(b) && b[i] != ']'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return string(b)
}

// Match reports whether the glob matches a path given as its segments
// (the path split at "/", no segment empty). It runs in
// O(len(glob) × len(segs)) whatever the number of "**", so no pattern can
// make it blow up.
func (g Glob) Match(segs []string) bool {
	// reach[j]: the glob segments seen so far match segs[:j].
	var bufA, bufB [32]bool
	reach, next := bufA[:0], bufB[:0]
	if len(segs)+1 > len(bufA) {
		reach, next = make([]bool, 0, len(segs)+1), make([]bool, 0, len(segs)+1)
	}
	reach = reach[:len(segs)+1]
	next = next[:len(segs)+1]
	reach[0] = true
	for _, p := range g.segs {
		clear(next)
		hit := false
		if p == "**" {
			for j := range reach {
				hit = hit || reach[j]
				next[j] = hit
			}
		} else {
			for j := range segs {
				if reach[j] && segMatch(p, segs[j]) {
					next[j+1] = true
					hit = true
				}
			}
		}
		if !hit {
			return false
		}
		reach, next = next, reach
	}
	return reach[len(segs)]
}

// segMatch matches one checked segment pattern against one name.
func segMatch(p, name string) bool {
	ok, _ := path.Match(p, name) // p was checked by splitGlob
	return ok
}
